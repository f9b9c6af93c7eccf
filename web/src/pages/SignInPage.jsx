// Sign in (accounts mode), or make the first administrator (`setup`: only on the server's machine).
import { useState } from "react";
import { useNavigate } from "react-router-dom";
import { useAccount } from "../lib/account.jsx";
import { errorBody } from "../lib/api.js";
import { useI18n } from "../lib/i18n.jsx";
import { useTitle } from "../lib/useTitle.js";
import ErrorBox from "../components/ErrorBox.jsx";

export default function SignInPage({ setup = false }) {
  const { t } = useI18n();
  const account = useAccount();
  const navigate = useNavigate();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useTitle(t(setup ? "account.setupTitle" : "account.signInTitle"));

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (setup) {
        await account.setupAdmin(username, password);
        navigate("/");
      } else {
        await account.signIn(username, password);
      }
    } catch (err) {
      setError(errorBody(err) || { message: t("error.network") });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="page page-narrow">
      <header className="page-head">
        <h1>{t(setup ? "account.setupTitle" : "account.signInTitle")}</h1>
        <p className="lead">{t(setup ? "account.setupLead" : "account.signInLead")}</p>
      </header>
      <form className="card" onSubmit={submit} aria-label={t(setup ? "account.setupTitle" : "account.signInTitle")}>
        <div className="field">
          <label htmlFor="signin-name" className="field-label">
            {t("account.name")}
          </label>
          <input
            id="signin-name"
            autoComplete="username"
            autoCapitalize="none"
            value={username}
            maxLength={64}
            onChange={(e) => setUsername(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="signin-password" className="field-label">
            {t("account.password")}
          </label>
          <input
            id="signin-password"
            type="password"
            autoComplete={setup ? "new-password" : "current-password"}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          {setup ? <p className="field-hint">{t("account.passwordHint")}</p> : null}
        </div>
        <ErrorBox error={error} />
        <button type="submit" className="button button-primary button-wide" disabled={busy || !username || !password} aria-busy={busy}>
          {t(setup ? "account.setupSubmit" : "account.signIn")}
        </button>
      </form>
    </div>
  );
}
