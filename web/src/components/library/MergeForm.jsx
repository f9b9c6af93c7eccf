// Merge two library models into a new one (POST /api/models/merge): two pickers, the first
// model's share, a name. The server checks that the pair can be blended and refuses otherwise.
import { useState } from "react";
import { useNavigate } from "react-router-dom";
import { api, errorCode, errorMessage, paths } from "../../lib/api.js";
import { useI18n } from "../../lib/i18n.jsx";
import ErrorBox from "../ErrorBox.jsx";
import RangeField from "../RangeField.jsx";

export default function MergeForm({ models }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const names = models.map((m) => m.name);
  const [a, setA] = useState(names[0] ?? "");
  const [b, setB] = useState(names[1] ?? "");
  const [weight, setWeight] = useState(0.5);
  const [name, setName] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  if (names.length < 2) return <p className="muted">{t("merge.needTwo")}</p>;

  const submit = async (e) => {
    e.preventDefault();
    if (a === b) return setError({ message: t("merge.same") });
    if (!name.trim()) return setError({ message: t("merge.needName") });
    setBusy(true);
    setError(null);
    try {
      const r = await api.post("/models/merge", { a, b, weight, name: name.trim() });
      navigate(paths.model(r.data.name));
    } catch (err) {
      setError({ message: errorMessage(err, t), code: errorCode(err) });
    } finally {
      setBusy(false);
    }
  };

  const picker = (id, label, value, onChange) => (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} disabled={busy}>
        {names.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </div>
  );
  return (
    <form className="merge-form" onSubmit={submit} noValidate data-testid="merge-form">
      <p className="field-hint">{t("merge.hint")}</p>
      <div className="grid-fields">
        {picker("merge-a", t("merge.a"), a, setA)}
        {picker("merge-b", t("merge.b"), b, setB)}
        <RangeField id="merge-weight" label={t("merge.weight")} min={0} max={1} step={0.05} value={weight} onChange={setWeight} format={(v) => `${Math.round(v * 100)}%`} />
        <div className="field">
          <label htmlFor="merge-name" className="field-label">
            {t("merge.name")}
          </label>
          <input id="merge-name" type="text" autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} disabled={busy} maxLength={64} />
        </div>
      </div>
      <ErrorBox error={error} />
      <button type="submit" className="button button-primary" disabled={busy}>
        {busy ? t("merge.busy") : t("merge.submit")}
      </button>
    </form>
  );
}
