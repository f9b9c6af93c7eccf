// The administrator's page: people (usage against quota, role, disable), add a person, and the
// jobs queued or running for everyone.
import { useCallback, useEffect, useState } from "react";
import { useAccount } from "../lib/account.jsx";
import { api, errorBody } from "../lib/api.js";
import { useI18n } from "../lib/i18n.jsx";
import { useTitle } from "../lib/useTitle.js";
import ErrorBox from "../components/ErrorBox.jsx";
import TextField from "../components/TextField.jsx";
import { usageText } from "../components/AccountMenu.jsx";
import PageHead from "../components/PageHead.jsx";

export default function AdminPage() {
  const { t, lang } = useI18n();
  const account = useAccount();
  useTitle(t("admin.title"));
  const [people, setPeople] = useState(null);
  const [jobs, setJobs] = useState([]);
  const [form, setForm] = useState({ username: "", password: "", admin: false, quota_gb: "" });
  const [error, setError] = useState(null);
  const fail = (err) => setError(errorBody(err) || { message: t("error.network") });

  const load = useCallback(async () => {
    try {
      const [p, j] = await Promise.all([api.get("/admin/users"), api.get("/admin/jobs")]);
      setPeople(p.data);
      setJobs(j.data);
    } catch (err) {
      fail(err);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(() => {
    load();
  }, [load]);

  if (!account.user?.admin) {
    return (
      <div className="page page-narrow">
        <ErrorBox error={{ code: "admin_required", message: "" }} />
      </div>
    );
  }

  async function add(e) {
    e.preventDefault();
    setError(null);
    try {
      const body = { username: form.username, password: form.password, admin: form.admin };
      if (form.quota_gb !== "") body.quota_gb = Number(form.quota_gb);
      await api.post("/admin/users", body);
      setForm({ username: "", password: "", admin: false, quota_gb: "" });
      load();
    } catch (err) {
      fail(err);
    }
  }

  async function change(person, patch) {
    setError(null);
    try {
      await api.patch(`/admin/users/${encodeURIComponent(person.id)}`, patch);
      load();
    } catch (err) {
      fail(err);
    }
  }

  return (
    <div className="page">
      <PageHead title={t("admin.title")} />
      <ErrorBox error={error} onDismiss={() => setError(null)} />
      <section className="card" aria-labelledby="admin-people">
        <h2 id="admin-people">{t("admin.people")}</h2>
        <ul className="account-list">
          {(people || []).map((p) => (
            <li key={p.id}>
              <div>
                <strong>{p.name}</strong>
                {p.admin ? <span className="badge">{t("admin.adminBadge")}</span> : null}
                {p.disabled ? <span className="badge badge-warn">{t("admin.disabledBadge")}</span> : null}
                <p className="field-hint">{usageText(t, lang, p.usage, p.quota)}</p>
              </div>
              {p.id !== account.user.id ? (
                <button
                  type="button"
                  className="button button-small"
                  onClick={() => change(p, { disabled: !p.disabled })}
                  aria-label={t(p.disabled ? "admin.enableNamed" : "admin.disableNamed", { name: p.name })}
                >
                  {t(p.disabled ? "admin.enable" : "admin.disable")}
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      </section>
      <form className="card" onSubmit={add} aria-labelledby="admin-add">
        <h2 id="admin-add">{t("admin.add")}</h2>
        <TextField
          id="admin-name"
          label={t("account.name")}
          value={form.username}
          maxLength={64}
          onValue={(username) => setForm({ ...form, username })}
        />
        <TextField
          id="admin-password"
          label={t("account.password")}
          hint={t("account.passwordHint")}
          type="password"
          autoComplete="new-password"
          value={form.password}
          onValue={(password) => setForm({ ...form, password })}
        />
        <TextField
          id="admin-quota"
          label={t("admin.quotaGb")}
          type="number"
          min="0"
          step="0.1"
          inputMode="decimal"
          value={form.quota_gb}
          onValue={(quota_gb) => setForm({ ...form, quota_gb })}
        />
        <label className="check">
          <input type="checkbox" checked={form.admin} onChange={(e) => setForm({ ...form, admin: e.target.checked })} />{" "}
          {t("admin.makeAdmin")}
        </label>
        <button type="submit" className="button button-primary" disabled={!form.username || !form.password}>
          {t("admin.addSubmit")}
        </button>
      </form>
      <section className="card" aria-labelledby="admin-jobs">
        <h2 id="admin-jobs">{t("admin.jobs")}</h2>
        {jobs.length === 0 ? <p>{t("admin.noJobs")}</p> : null}
        <ul className="account-list">
          {jobs.map((j) => (
            <li key={j.id}>
              <span>
                {t(`admin.kind.${j.kind}`) === `admin.kind.${j.kind}` ? j.kind : t(`admin.kind.${j.kind}`)} · {j.owner_name || "—"} ·{" "}
                {t(`admin.status.${j.status}`)}
              </span>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
