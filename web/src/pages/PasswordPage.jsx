// Change one's own password (accounts mode): the current one, the new one twice. On success the
// server ends every other session of the person (other devices and browsers) and gives this one a
// fresh session; personal access tokens keep working, and the page says so.
import { useState } from "react";
import { Link } from "react-router-dom";
import { useAccount } from "../lib/account.jsx";
import { useI18n } from "../lib/i18n.jsx";
import { useAction } from "../lib/useAction.js";
import { useTitle } from "../lib/useTitle.js";
import ErrorBox from "../components/ErrorBox.jsx";
import PageHead from "../components/PageHead.jsx";
import TextField from "../components/TextField.jsx";

const FIELDS = [
  { key: "current", label: "account.passwordCurrent", autoComplete: "current-password" },
  { key: "fresh", label: "account.passwordNew", autoComplete: "new-password", hint: "account.passwordHint" },
  { key: "again", label: "account.passwordAgain", autoComplete: "new-password" },
];
const EMPTY = { current: "", fresh: "", again: "" };

export default function PasswordPage() {
  const { t } = useI18n();
  const account = useAccount();
  const [values, setValues] = useState(EMPTY);
  const [done, setDone] = useState(false);
  const { busy, error, setError, run } = useAction(t);
  useTitle(t("account.passwordTitle"));

  async function submit(e) {
    e.preventDefault();
    setDone(false);
    if (values.fresh !== values.again) {
      setError({ code: "password_mismatch", params: {} }); // a typo never reaches the server
      return;
    }
    if (await run(() => account.changePassword(values.current, values.fresh))) {
      setValues(EMPTY);
      setDone(true);
    }
  }

  return (
    <div className="page page-narrow">
      <PageHead title={t("account.passwordTitle")} lead={t("account.passwordLead")} />
      <form className="card" onSubmit={submit} aria-label={t("account.passwordTitle")}>
        {FIELDS.map((field) => (
          <TextField
            key={field.key}
            id={`password-${field.key}`}
            label={t(field.label)}
            type="password"
            autoComplete={field.autoComplete}
            value={values[field.key]}
            onValue={(text) => setValues((v) => ({ ...v, [field.key]: text }))}
            hint={field.hint ? t(field.hint) : null}
            required
          />
        ))}
        <ErrorBox error={error} reveal />
        <button type="submit" className="button button-primary button-wide" disabled={busy || FIELDS.some((f) => !values[f.key])} aria-busy={busy}>
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
