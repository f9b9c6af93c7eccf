// Personal access tokens: for the CLI and scripts. A new token is shown once; each has a name,
// when it was made and last used, and can be revoked.
import { useCallback, useEffect, useState } from "react";
import { api, errorBody } from "../lib/api.js";
import { formatDate } from "../lib/format.js";
import { useI18n } from "../lib/i18n.jsx";
import { useTitle } from "../lib/useTitle.js";
import ErrorBox from "../components/ErrorBox.jsx";
import PageHead from "../components/PageHead.jsx";

export default function TokensPage() {
  const { t, lang } = useI18n();
  useTitle(t("account.tokensTitle"));
  const [tokens, setTokens] = useState(null);
  const [label, setLabel] = useState("");
  const [fresh, setFresh] = useState(null);
  const [error, setError] = useState(null);

  const load = useCallback(async () => {
    try {
      setTokens((await api.get("/tokens")).data);
    } catch (err) {
      setError(errorBody(err) || { message: t("error.network") });
    }
  }, [t]);
  useEffect(() => {
    load();
  }, [load]);

  async function make(e) {
    e.preventDefault();
    setError(null);
    try {
      const { data } = await api.post("/tokens", { label: label.trim() || null });
      setFresh(data);
      setLabel("");
      load();
    } catch (err) {
      setError(errorBody(err) || { message: t("error.network") });
    }
  }

  async function revoke(id) {
    setError(null);
    try {
      await api.delete(`/tokens/${encodeURIComponent(id)}`);
      if (fresh?.id === id) setFresh(null);
      load();
    } catch (err) {
      setError(errorBody(err) || { message: t("error.network") });
    }
  }

  return (
    <div className="page page-narrow">
      <PageHead title={t("account.tokensTitle")} lead={t("account.tokensLead")} />
      <form className="card" onSubmit={make}>
        <div className="field">
          <label htmlFor="token-label" className="field-label">
            {t("account.tokenLabel")}
          </label>
          <input id="token-label" value={label} maxLength={64} onChange={(e) => setLabel(e.target.value)} />
        </div>
        <button type="submit" className="button button-primary">
          {t("account.tokenMake")}
        </button>
      </form>
      {fresh ? (
        <div className="card" role="status">
          <p>{t("account.tokenOnce")}</p>
          <code className="token-secret" data-testid="new-token">
            {fresh.token}
          </code>
        </div>
      ) : null}
      <ErrorBox error={error} />
      {tokens && tokens.length === 0 ? <p>{t("account.tokensNone")}</p> : null}
      {tokens && tokens.length > 0 ? (
        <ul className="account-list">
          {tokens.map((tok) => (
            <li key={tok.id}>
              <div>
                <strong>{tok.label}</strong>
                <p className="field-hint">
                  {t("account.tokenMade", { date: formatDate(tok.created_at, lang) })} ·{" "}
                  {tok.last_used_at
                    ? t("account.tokenUsed", { date: formatDate(tok.last_used_at, lang) })
                    : t("account.tokenNeverUsed")}
                </p>
              </div>
              <button
                type="button"
                className="button button-danger-text button-small"
                onClick={() => revoke(tok.id)}
                aria-label={t("account.tokenRevokeNamed", { label: tok.label })}
              >
                {t("account.tokenRevoke")}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
