// A download button: a plain link, or (when an access token is set) a fetch that sends it.
import { useState } from "react";
import { downloadWithAuth, errorMessage, getToken } from "../lib/api.js";
import { useI18n } from "../lib/i18n.jsx";
import ErrorBox from "./ErrorBox.jsx";

export default function DownloadLink({ href, filename, children, className = "button" }) {
  const { t } = useI18n();
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const onClick = async (e) => {
    if (!getToken()) return; // the browser downloads it itself
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await downloadWithAuth(href, filename);
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <a className={className} href={href} download={filename || ""} onClick={onClick} aria-busy={busy}>
        <svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden="true">
          <path d="M12 4v12m0 0-5-5m5 5 5-5M5 20h14" strokeLinecap="round" strokeLinejoin="round" />
        </svg>
        {children}
      </a>
      {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}
    </>
  );
}
