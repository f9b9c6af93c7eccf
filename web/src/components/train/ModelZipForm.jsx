// Upload a ready-made RVC model (.zip with .pth and .index) and open it.
import { useState } from "react";
import { useNavigate } from "react-router-dom";
import { useI18n } from "../../lib/i18n.jsx";
import { paths } from "../../lib/api.js";
import { KEYS, session } from "../../lib/storage.js";
import { acceptOne, ZIP_LIMITS } from "../../lib/files.js";
import { useUpload } from "../../lib/useUpload.js";
import { useHealth } from "../../lib/health.js";
import FileDrop from "../FileDrop.jsx";
import Check from "../cover/Check.jsx";
import ErrorBox from "../ErrorBox.jsx";
import ProgressBar from "../ProgressBar.jsx";
import TextField from "../TextField.jsx";

export default function ModelZipForm() {
  const { t } = useI18n();
  const navigate = useNavigate();
  const [file, setFile] = useState(null);
  const [name, setName] = useState("");
  const upload = useUpload();
  const rightsRequired = Boolean(useHealth()?.consent?.required);
  const [rights, setRights] = useState(false);

  const submit = async (e) => {
    e.preventDefault();
    upload.setError(null);
    if (!file) return upload.setError({ message: t("zip.needFile") });
    if (rightsRequired && !rights) return upload.setError({ message: t("consent.needRights") });
    const body = new FormData();
    if (rights) body.append("rights_confirmed", "true");
    body.append("file", file, file.name);
    if (name.trim()) body.append("name", name.trim());
    const data = await upload.send("/models/upload", body);
    if (!data) return;
    session.set(KEYS.modelName, data.name);
    navigate(paths.model(data.name), { state: { notice: "uploaded" } });
  };

  const busy = upload.busy;
  return (
    <form onSubmit={submit} noValidate aria-labelledby="zip-form-title">
      <h2 id="zip-form-title">{t("zip.title")}</h2>
      <p className="muted">{t("zip.lead")}</p>
      <FileDrop
        name="model-zip"
        label={t("zip.file")}
        hint={t("zip.hint")}
        accept=".zip,application/zip"
        files={file ? [file] : []}
        disabled={busy}
        onAdd={(picked) => acceptOne(picked, ZIP_LIMITS, t, setFile, upload.setError)}
        onRemove={() => setFile(null)}
      />
      <TextField
        id="zip-name"
        label={t("zip.name")}
        type="text"
        maxLength={64}
        value={name}
        autoComplete="off"
        placeholder={t("zip.namePlaceholder")}
        onValue={setName}
        disabled={busy}
      />
      <Check label={t("consent.rights")} hint={t("consent.rightsHint")} checked={rights} onChange={setRights} disabled={busy} />
      {busy ? <ProgressBar value={upload.progress} label={t("common.uploadProgress")} /> : null}
      <ErrorBox error={upload.error} reveal={Boolean(upload.error?.sent)} />
      <button type="submit" className="button button-wide" disabled={busy}>
        {busy ? t("common.uploading") : t("zip.submit")}
      </button>
    </form>
  );
}
