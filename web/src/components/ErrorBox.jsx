// A server or client error, in words. `error` is a string, or {message, code}.
export default function ErrorBox({ error, onDismiss, dismissLabel = "×" }) {
  if (!error) return null;
  const message = typeof error === "string" ? error : error.message;
  const code = typeof error === "object" ? error.code : null;
  return (
    <div className="alert alert-error" role="alert">
      <span className="alert-icon" aria-hidden="true">!</span>
      <div className="alert-body">
        <p>{message}</p>
        {code ? <p className="alert-code">{code}</p> : null}
      </div>
      {onDismiss ? (
        <button type="button" className="icon-button" onClick={onDismiss} aria-label={dismissLabel}>
          ×
        </button>
      ) : null}
    </div>
  );
}
