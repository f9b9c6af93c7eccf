// `/check`: "이 파일이 AI로 만들어졌나요?" Anyone (no sign-in) uploads an audio file; the server says
// whether it carries Persona's watermark and shows its signed content credentials (C2PA), if any.
import { useState } from "react";
import { useI18n } from "../lib/i18n.jsx";
import { useTitle } from "../lib/useTitle.js";
import { api, errorBody, errorMessage } from "../lib/api.js";
import FileDrop from "../components/FileDrop.jsx";
import ErrorBox from "../components/ErrorBox.jsx";
import CredentialFacts from "../components/provenance/CredentialFacts.jsx";
import PageHead from "../components/PageHead.jsx";

export default function CheckPage() {
  const { t } = useI18n();
  useTitle(t("check.title"));
  const [file, setFile] = useState(null);
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState(null);

  const submit = async (e) => {
    e.preventDefault();
    if (!file || busy) return;
    setBusy(true);
    setAnswer(null);
    setError(null);
    const form = new FormData();
    form.append("file", file);
    try {
      const r = await api.post("/detect", form);
      setAnswer(r.data);
    } catch (err) {
      setError(errorBody(err) || { message: errorMessage(err, t) });
    } finally {
      setBusy(false);
    }
  };

  const score = answer ? { score: answer.score.toFixed(1), threshold: answer.threshold } : null;
  return (
    <div className="page page-narrow check-page">
      <PageHead eyebrow={t("check.eyebrow")} title={t("check.title")} lead={t("check.lead")} />
      <section className="card">
        <form onSubmit={submit}>
          <FileDrop
            label={t("check.file")}
            hint={t("check.hint")}
            accept="audio/*,.wav,.mp3,.flac,.ogg,.m4a,.aac,.opus"
            files={file ? [file] : []}
            onAdd={(files) => {
              setFile(files[0]);
              setAnswer(null);
              setError(null);
            }}
            onRemove={() => setFile(null)}
            disabled={busy}
            name="check"
          />
          <div className="actions">
            <button type="submit" className="button button-primary" disabled={!file || busy} data-testid="check-submit">
              {busy ? t("check.checking") : t("check.submit")}
            </button>
          </div>
        </form>
        <div aria-live="polite">
          {error ? <ErrorBox error={error} reveal /> : null}
          {answer ? (
            <div className={`check-answer ${answer.marked ? "check-marked" : "check-unmarked"}`} data-testid="check-answer">
              <h2>{answer.marked ? t("check.marked") : t("check.notMarked")}</h2>
              <p>{answer.marked ? t("check.markedDetail", score) : t("check.notMarkedDetail", score)}</p>
              <h3 className="subhead">{t("check.credentials")}</h3>
              {answer.credentials ? (
                <CredentialFacts credentials={answer.credentials} />
              ) : (
                <p data-testid="check-no-credentials">{t("check.noCredentials")}</p>
              )}
            </div>
          ) : null}
        </div>
        <p className="field-hint">{t("check.privacy")}</p>
      </section>
    </div>
  );
}
