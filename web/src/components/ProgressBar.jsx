// A labelled progress bar (0..1). `indeterminate` when no fraction is known yet.
export default function ProgressBar({ value, label, indeterminate = false }) {
  const pct = Math.round(Math.min(Math.max(Number(value) || 0, 0), 1) * 100);
  return (
    <div className="progress">
      <div
        className={`progress-track${indeterminate ? " indeterminate" : ""}`}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={indeterminate ? undefined : pct}
      >
        <div className="progress-fill" style={{ width: indeterminate ? undefined : `${pct}%` }} />
      </div>
      {indeterminate ? null : <span className="progress-pct">{pct}%</span>}
    </div>
  );
}
