// Sign in (accounts mode), or make the first administrator (`setup`: only on the server's machine).
import { useState } from "react";
import { useNavigate } from "react-router-dom";
import { useAccount } from "../lib/account.jsx";
import { useI18n } from "../lib/i18n.jsx";
import { useAction } from "../lib/useAction.js";
import { useTitle } from "../lib/useTitle.js";
import ErrorBox from "../components/ErrorBox.jsx";
import TextField from "../components/TextField.jsx";
import PageHead from "../components/PageHead.jsx";

export default function SignInPage({ setup = false }) {
  const { t } = useI18n();
  const account = useAccount();
  const navigate = useNavigate();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, run } = useAction(t);
  useTitle(t(setup ? "account.setupTitle" : "account.signInTitle"));

  async function submit(e) {
    e.preventDefault();
    if (setup) {
      if (await run(() => account.setupAdmin(username, password))) navigate("/");
    } else {
      await run(() => account.signIn(username, password));
    }
  }

  return (
    <div className="page page-narrow">
      <PageHead title={t(setup ? "account.setupTitle" : "account.signInTitle")} lead={t(setup ? "account.setupLead" : "account.signInLead")} />
      <form className="card" onSubmit={submit} aria-label={t(setup ? "account.setupTitle" : "account.signInTitle")}>
        <TextField
          id="signin-name"
          label={t("account.name")}
          autoComplete="username"
          autoCapitalize="none"
          value={username}
          maxLength={64}
          onValue={setUsername}
        />
        <TextField
          id="signin-password"
          label={t("account.password")}
          type="password"
          autoComplete={setup ? "new-password" : "current-password"}
          value={password}
          onValue={setPassword}
          hint={setup ? t("account.passwordHint") : null}
        />
        <ErrorBox error={error} />
        <button type="submit" className="button button-primary button-wide" disabled={busy || !username || !password} aria-busy={busy}>
          {t(setup ? "account.setupSubmit" : "account.signIn")}
        </button>
      </form>
    </div>
  );
}
