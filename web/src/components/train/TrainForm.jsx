// Train a voice model: recordings, name and epochs, advanced settings; uploads and starts the job.
import { useState } from "react";
import { useI18n } from "../../lib/i18n.jsx";
import { KEYS, session } from "../../lib/storage.js";
import { TRAINING_LIMITS } from "../../lib/files.js";
import { TRAIN_DEFAULTS } from "../../lib/options.js";
import { trainingLimits, useHealth } from "../../lib/health.js";
import { useUpload } from "../../lib/useUpload.js";
import ErrorBox from "../ErrorBox.jsx";
import ProgressBar from "../ProgressBar.jsx";
import RecordingsPicker from "./RecordingsPicker.jsx";
import NameEpochsFields from "./NameEpochsFields.jsx";
import TrainAdvanced from "./TrainAdvanced.jsx";

export default function TrainForm({ onStarted }) {
  const { t } = useI18n();
  const [files, setFiles] = useState([]);
  const [name, setName] = useState("");
  const [epochs, setEpochs] = useState(TRAIN_DEFAULTS.epochs);
  const [advanced, setAdvanced] = useState({
    batch_size: TRAIN_DEFAULTS.batch_size,
    sample_rate: TRAIN_DEFAULTS.sample_rate,
    f0_method: TRAIN_DEFAULTS.f0_method,
    save_every: TRAIN_DEFAULTS.save_every,
  });
  const upload = useUpload();
  const limits = trainingLimits(useHealth(), TRAINING_LIMITS);

  const submit = async (e) => {
    e.preventDefault();
    upload.setError(null);
    if (!files.length) return upload.setError({ message: t("train.needFiles") });
    if (!name.trim()) return upload.setError({ message: t("train.needName") });
    const body = new FormData();
    for (const file of files) body.append("files", file, file.name);
    body.append("name", name.trim());
    body.append("epochs", String(epochs));
    body.append("batch_size", String(advanced.batch_size));
    body.append("sample_rate", advanced.sample_rate);
    body.append("f0_method", advanced.f0_method);
    body.append("save_every", String(advanced.save_every));
    const data = await upload.send("/trainings", body);
    if (!data) return;
    const started = { job_id: data.job_id, model_name: data.model_name || name.trim(), epochs: Number(epochs) };
    session.setJSON(KEYS.trainJob, started);
    onStarted(started);
  };

  const busy = upload.busy;
  return (
    <form onSubmit={submit} noValidate aria-labelledby="train-form-title">
      <h2 id="train-form-title">{t("train.formTitle")}</h2>
      <RecordingsPicker files={files} onChange={setFiles} limits={limits} disabled={busy} />
      <NameEpochsFields name={name} onName={setName} epochs={epochs} onEpochs={setEpochs} disabled={busy} />
      <TrainAdvanced values={advanced} onChange={(key, value) => setAdvanced((a) => ({ ...a, [key]: value }))} disabled={busy} />
      {busy ? (
        <div className="upload">
          <span className="field-label">{t("common.uploading")}</span>
          <ProgressBar value={upload.progress} label={t("common.uploadProgress")} />
        </div>
      ) : null}
      <ErrorBox error={upload.error} />
      <button type="submit" className="button button-primary button-wide" disabled={busy}>
        {busy ? t("common.uploading") : t("train.submit")}
      </button>
    </form>
  );
}
