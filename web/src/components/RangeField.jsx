// A labelled slider with its value shown beside the label, and an optional hint below.
export default function RangeField({ id, label, min, max, step, value, onChange, hint, format = (v) => v }) {
  return (
    <div className="field">
      <div className="field-label-row">
        <label htmlFor={id} className="field-label">
          {label}
        </label>
        <output htmlFor={id}>{format(value)}</output>
      </div>
      <input id={id} type="range" min={min} max={max} step={step} value={value} onChange={(e) => onChange(Number(e.target.value))} />
      {hint ? <p className="field-hint">{hint}</p> : null}
    </div>
  );
}
