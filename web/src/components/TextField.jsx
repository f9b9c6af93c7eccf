// One labelled input: the label, the input (any of its attributes passed through), an optional
// hint under it. `onValue(text)` gets the input's value on every change.
export default function TextField({ id, label, hint, onValue, className = "", ...input }) {
  return (
    <div className={`field${className ? ` ${className}` : ""}`}>
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <input id={id} {...input} onChange={(e) => onValue(e.target.value)} />
      {hint ? <p className="field-hint">{hint}</p> : null}
    </div>
  );
}
