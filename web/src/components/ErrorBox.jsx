// A server or client error, in words. `error` is a string, or {message, code, params}: a code
// the catalogue knows is shown in the user's language (the English message only for others).
import { useI18n } from "../lib/i18n.jsx";
import { errorText } from "../lib/serverText.js";

export default function ErrorBox({ error, onDismiss, dismissLabel = "×" }) {
  const { t } = useI18n();
  if (!error) return null;
  const message = typeof error === "string" ? error : error.code ? errorText(error, t) : error.message;
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
