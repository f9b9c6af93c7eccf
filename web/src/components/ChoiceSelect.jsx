// A labelled select over a server-described choice (`spec.choices`), each shown through `labelOf`.
export default function ChoiceSelect({ id, label, spec, value, onChange, labelOf = (c) => c, disabled }) {
  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} disabled={disabled}>
        {spec.choices.map((c) => (
          <option key={c} value={c}>
            {labelOf(c)}
          </option>
        ))}
      </select>
    </div>
  );
}
