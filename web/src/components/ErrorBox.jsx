// A server or client error, in words. `error` is a string, or {message, code, params}: a code
// the catalogue knows is shown in the user's language (the English message only for others).
// The raw code is for support, not for the person: folded under "자세히".
// `reveal`: bring the message into view and focus it when it appears (a server's refusal after
// a submit lands where the person is looking, not at the edge of the window).
import { useEffect, useRef } from "react";
import { useI18n } from "../lib/i18n.jsx";
import { errorText } from "../lib/serverText.js";
import { reveal as bringIntoView } from "../lib/reveal.js";

export default function ErrorBox({ error, onDismiss, dismissLabel = "×", reveal = false }) {
  const { t } = useI18n();
  const box = useRef(null);
  const code = error && typeof error === "object" ? error.code : null;
  useEffect(() => {
    if (error && reveal && box.current) {
      bringIntoView(box.current, { block: "center" });
      box.current.focus?.({ preventScroll: true });
    }
  }, [error, reveal]);
  if (!error) return null;
  const message = typeof error === "string" ? error : error.code ? errorText(error, t) : error.message;
  return (
    <div className="alert alert-error" role="alert" ref={box} tabIndex={reveal ? -1 : undefined}>
      <span className="alert-icon" aria-hidden="true">!</span>
      <div className="alert-body">
        <p>{message}</p>
        {code ? (
          <details className="alert-details">
            <summary>{t("common.details")}</summary>
            <code className="alert-code" data-testid="error-code">
              {code}
            </code>
          </details>
        ) : null}
      </div>
      {onDismiss ? (
        <button type="button" className="icon-button" onClick={onDismiss} aria-label={dismissLabel}>
          ×
        </button>
      ) : null}
    </div>
  );
}
