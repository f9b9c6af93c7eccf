// Change one's own password (accounts mode): the current one, the new one twice. On success the
// server ends every other session of the person (other devices and browsers) and gives this one a
// fresh session; personal access tokens keep working, and the page says so.
import { useState } from "react";
import { Link } from "react-router-dom";
import { useAccount } from "../lib/account.jsx";
import { errorBody } from "../lib/api.js";
import { useI18n } from "../lib/i18n.jsx";
import { useTitle } from "../lib/useTitle.js";
import ErrorBox from "../components/ErrorBox.jsx";
import PageHead from "../components/PageHead.jsx";
import TextField from "../components/TextField.jsx";

export default function PasswordPage() {
  const { t } = useI18n();
  const account = useAccount();
  const [current, setCurrent] = useState("");
  const [fresh, setFresh] = useState("");
  const [again, setAgain] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(false);
  useTitle(t("account.passwordTitle"));

  async function submit(e) {
    e.preventDefault();
    setError(null);
    setDone(false);
    if (fresh !== again) {
      setError({ code: "password_mismatch", params: {} });
      return;
    }
    setBusy(true);
    try {
      await account.changePassword(current, fresh);
      setCurrent("");
      setFresh("");
      setAgain("");
      setDone(true);
    } catch (err) {
      setError(errorBody(err) || { message: t("error.network") });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="page page-narrow">
      <PageHead title={t("account.passwordTitle")} lead={t("account.passwordLead")} />
      <form className="card" onSubmit={submit} aria-label={t("account.passwordTitle")}>
        <TextField
          id="password-current"
          label={t("account.passwordCurrent")}
          type="password"
          autoComplete="current-password"
          value={current}
          onValue={setCurrent}
          required
        />
        <TextField
          id="password-new"
          label={t("account.passwordNew")}
          type="password"
          autoComplete="new-password"
          value={fresh}
          onValue={setFresh}
          hint={t("account.passwordHint")}
          required
        />
        <TextField
          id="password-again"
          label={t("account.passwordAgain")}
          type="password"
          autoComplete="new-password"
          value={again}
          onValue={setAgain}
          required
        />
        <ErrorBox error={error} reveal />
        <button type="submit" className="button button-primary button-wide" disabled={busy || !current || !fresh || !again} aria-busy={busy}>
          {t("account.passwordSubmit")}
        </button>
      </form>
      {done ? (
        <div className="card" role="status" data-testid="password-changed">
          <p>{t("account.passwordChanged")}</p>
          <p>
            {t("account.passwordTokensStay")} <Link to="/account/tokens">{t("account.tokensTitle")}</Link>
          </p>
        </div>
      ) : null}
    </div>
  );
}
