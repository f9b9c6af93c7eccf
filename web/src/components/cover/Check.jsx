// A checkbox with its label and a small hint beneath, as the cover form's switches look.
export default function Check({ label, hint, checked, onChange, disabled }) {
  return (
    <label className="check">
      <input type="checkbox" checked={Boolean(checked)} onChange={(e) => onChange(e.target.checked)} disabled={disabled} />
      <span>
        {label}
        <small>{hint}</small>
      </span>
    </label>
  );
}
