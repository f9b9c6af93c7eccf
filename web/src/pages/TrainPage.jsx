// `/` and `/train`: train a voice model from recordings, or upload a ready-made model zip.
import { useEffect, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { useI18n } from "../lib/i18n.jsx";
import { useTitle } from "../lib/useTitle.js";
import { api, errorMessage, errorCode, paths } from "../lib/api.js";
import { KEYS, session } from "../lib/storage.js";
import { acceptOne, addTrainingFiles, TRAINING_LIMITS, ZIP_LIMITS } from "../lib/files.js";
import { F0_METHODS, SAMPLE_RATES, TRAIN_DEFAULTS } from "../lib/options.js";
import { useJob } from "../lib/useJob.js";
import { trainingLimits, useHealth } from "../lib/health.js";
import FileDrop from "../components/FileDrop.jsx";
import ErrorBox from "../components/ErrorBox.jsx";
import ProgressBar from "../components/ProgressBar.jsx";
import JobProgress from "../components/JobProgress.jsx";

function serverError(error, t) {
  return { message: errorMessage(error, t), code: errorCode(error) };
}

export function TrainForm({ onStarted }) {
  const { t } = useI18n();
  const [files, setFiles] = useState([]);
  const [fileErrors, setFileErrors] = useState([]);
  const [name, setName] = useState("");
  const [epochs, setEpochs] = useState(TRAIN_DEFAULTS.epochs);
  const [batchSize, setBatchSize] = useState(TRAIN_DEFAULTS.batch_size);
  const [sampleRate, setSampleRate] = useState(TRAIN_DEFAULTS.sample_rate);
  const [f0Method, setF0Method] = useState(TRAIN_DEFAULTS.f0_method);
  const [saveEvery, setSaveEvery] = useState(TRAIN_DEFAULTS.save_every);
  const [upload, setUpload] = useState(null); // fraction while uploading
  const [error, setError] = useState(null);
  const limits = trainingLimits(useHealth(), TRAINING_LIMITS);

  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    if (!files.length) return setError({ message: t("train.needFiles") });
    if (!name.trim()) return setError({ message: t("train.needName") });
    const body = new FormData();
    for (const file of files) body.append("files", file, file.name);
    body.append("name", name.trim());
    body.append("epochs", String(epochs));
    body.append("batch_size", String(batchSize));
    body.append("sample_rate", sampleRate);
    body.append("f0_method", f0Method);
    body.append("save_every", String(saveEvery));
    setUpload(0);
    try {
      const response = await api.post("/trainings", body, {
        onUploadProgress: (ev) => ev.total && setUpload(ev.loaded / ev.total),
      });
      const started = {
        job_id: response.data.job_id,
        model_name: response.data.model_name || name.trim(),
        epochs: Number(epochs),
      };
      session.setJSON(KEYS.trainJob, started);
      onStarted(started);
    } catch (err) {
      setError(serverError(err, t));
    } finally {
      setUpload(null);
    }
  };

  const busy = upload !== null;
  return (
    <form onSubmit={submit} noValidate aria-labelledby="train-form-title">
      <h2 id="train-form-title">{t("train.formTitle")}</h2>
      <FileDrop
        name="recordings"
        label={t("train.files")}
        hint={t("train.filesHint", { max: limits.maxFiles, size: Math.round(limits.maxFileBytes / 1048576) })}
        accept=".wav,.mp3,audio/wav,audio/x-wav,audio/mpeg"
        multiple
        files={files}
        disabled={busy}
        onAdd={(picked) => {
          const result = addTrainingFiles(files, picked, limits);
          setFiles(result.files);
          setFileErrors(result.errors);
        }}
        onRemove={(index) => {
          setFiles(files.filter((_, i) => i !== index));
          setFileErrors([]);
        }}
      />
      {fileErrors.length ? (
        <div className="alert alert-error" role="alert" data-testid="file-errors">
          <span className="alert-icon" aria-hidden="true">!</span>
          <ul className="alert-body">
            {fileErrors.map((fe, i) => (
              <li key={i}>{t(fe.key, fe.vars)}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <p className="field-hint count" aria-live="polite">
        {t("train.count", { n: files.length, max: limits.maxFiles })}
      </p>
      <div className="row">
        <div className="field grow">
          <label htmlFor="train-name" className="field-label">
            {t("train.name")}
          </label>
          <input
            id="train-name"
            type="text"
            value={name}
            maxLength={64}
            required
            autoComplete="off"
            placeholder={t("train.namePlaceholder")}
            onChange={(e) => setName(e.target.value)}
            disabled={busy}
          />
        </div>
        <div className="field narrow">
          <label htmlFor="train-epochs" className="field-label">
            {t("train.epochs")}
          </label>
          <input
            id="train-epochs"
            type="number"
            min={1}
            max={1000}
            value={epochs}
            onChange={(e) => setEpochs(e.target.value)}
            disabled={busy}
          />
        </div>
      </div>
      <details className="advanced">
        <summary>{t("train.advanced")}</summary>
        <div className="grid-fields">
          <div className="field">
            <label htmlFor="train-batch" className="field-label">
              {t("train.batchSize")}
            </label>
            <input
              id="train-batch"
              type="number"
              min={1}
              max={64}
              value={batchSize}
              onChange={(e) => setBatchSize(e.target.value)}
              disabled={busy}
            />
          </div>
          <div className="field">
            <label htmlFor="train-sr" className="field-label">
              {t("train.sampleRate")}
            </label>
            <select id="train-sr" value={sampleRate} onChange={(e) => setSampleRate(e.target.value)} disabled={busy}>
              {SAMPLE_RATES.map((sr) => (
                <option key={sr} value={sr}>
                  {sr.replace("k", " kHz")}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="train-f0" className="field-label">
              {t("train.f0Method")}
            </label>
            <select id="train-f0" value={f0Method} onChange={(e) => setF0Method(e.target.value)} disabled={busy}>
              {F0_METHODS.map((m) => (
                <option key={m} value={m}>
                  {t(`f0.${m}`)}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="train-save" className="field-label">
              {t("train.saveEvery")}
            </label>
            <input
              id="train-save"
              type="number"
              min={1}
              max={1000}
              value={saveEvery}
              onChange={(e) => setSaveEvery(e.target.value)}
              disabled={busy}
            />
          </div>
        </div>
        <p className="field-hint">{t("train.advancedHint")}</p>
      </details>
      {busy ? (
        <div className="upload">
          <span className="field-label">{t("common.uploading")}</span>
          <ProgressBar value={upload} label={t("common.uploadProgress")} />
        </div>
      ) : null}
      <ErrorBox error={error} />
      <button type="submit" className="button button-primary button-wide" disabled={busy}>
        {busy ? t("common.uploading") : t("train.submit")}
      </button>
    </form>
  );
}

function TrainingRun({ active, onReset }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const { job, loadError, connected } = useJob(active.job_id, t);
  const [stopping, setStopping] = useState(false);
  const [stopError, setStopError] = useState(null);
  const [savedModel, setSavedModel] = useState(null);

  const status = job?.status;
  useEffect(() => {
    if (status === "succeeded") {
      const modelName = job.result?.model_name || active.model_name;
      session.set(KEYS.modelName, modelName);
      session.set(KEYS.trainJob, null);
      navigate(paths.model(modelName), { state: { notice: "trained" } });
    } else if (status === "failed" || status === "cancelled") {
      session.set(KEYS.trainJob, null);
      if (status === "cancelled") {
        // Stopping keeps the last saved model, when one was saved.
        const kept = job.result?.model_name || active.model_name;
        api
          .get(`/models/${encodeURIComponent(kept)}`)
          .then((r) => setSavedModel(r.data.name || kept))
          .catch(() => setSavedModel(null));
      }
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [status]);

  useEffect(() => {
    if (loadError?.status === 404) session.set(KEYS.trainJob, null);
  }, [loadError]);

  const stop = async () => {
    setStopping(true);
    setStopError(null);
    try {
      await api.post(`/jobs/${encodeURIComponent(active.job_id)}/cancel`);
    } catch (err) {
      setStopError(serverError(err, t));
      setStopping(false);
    }
  };

  const final = status === "failed" || status === "cancelled" || loadError?.status === 404;
  return (
    <div>
      <h2>{t("train.running", { name: active.model_name })}</h2>
      {loadError && !job ? <ErrorBox error={loadError} /> : null}
      {!(loadError && !job) ? (
        <JobProgress
          job={job && { ...job, epochs: job.params?.epochs ?? active.epochs }}
          title={t("train.progressTitle")}
          onStop={stop}
          stopping={stopping}
          connected={connected}
        />
      ) : null}
      <ErrorBox error={stopError} />
      {savedModel ? (
        <p>
          <Link className="button button-primary" to={paths.model(savedModel)}>
            {t("train.openSaved")}
          </Link>
        </p>
      ) : null}
      {final ? (
        <button type="button" className="button button-ghost" onClick={onReset}>
          {t("train.again")}
        </button>
      ) : null}
    </div>
  );
}

export function ModelZipForm() {
  const { t } = useI18n();
  const navigate = useNavigate();
  const [file, setFile] = useState(null);
  const [name, setName] = useState("");
  const [upload, setUpload] = useState(null);
  const [error, setError] = useState(null);

  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    if (!file) return setError({ message: t("zip.needFile") });
    const body = new FormData();
    body.append("file", file, file.name);
    if (name.trim()) body.append("name", name.trim());
    setUpload(0);
    try {
      const response = await api.post("/models/upload", body, {
        onUploadProgress: (ev) => ev.total && setUpload(ev.loaded / ev.total),
      });
      const modelName = response.data.name;
      session.set(KEYS.modelName, modelName);
      navigate(paths.model(modelName), { state: { notice: "uploaded" } });
    } catch (err) {
      setError(serverError(err, t));
      setUpload(null);
    }
  };

  const busy = upload !== null;
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
        onAdd={(picked) => acceptOne(picked, ZIP_LIMITS, t, setFile, setError)}
        onRemove={() => setFile(null)}
      />
      <div className="field">
        <label htmlFor="zip-name" className="field-label">
          {t("zip.name")}
        </label>
        <input
          id="zip-name"
          type="text"
          maxLength={64}
          value={name}
          autoComplete="off"
          placeholder={t("zip.namePlaceholder")}
          onChange={(e) => setName(e.target.value)}
          disabled={busy}
        />
      </div>
      {busy ? <ProgressBar value={upload} label={t("common.uploadProgress")} /> : null}
      <ErrorBox error={error} />
      <button type="submit" className="button button-wide" disabled={busy}>
        {busy ? t("common.uploading") : t("zip.submit")}
      </button>
    </form>
  );
}

export default function TrainPage() {
  const { t } = useI18n();
  useTitle(t("nav.train"));
  const [active, setActive] = useState(() => session.getJSON(KEYS.trainJob));
  return (
    <div className="page">
      <header className="page-head">
        <h1>{t("train.title")}</h1>
        <p className="lead">{t("train.lead")}</p>
      </header>
      <div className="grid-main">
        <section className="card card-main">
          {active && active.job_id ? (
            <TrainingRun
              key={active.job_id}
              active={active}
              onReset={() => {
                session.set(KEYS.trainJob, null);
                setActive(null);
              }}
            />
          ) : (
            <TrainForm onStarted={setActive} />
          )}
        </section>
        <aside className="card card-side">
          <ModelZipForm />
        </aside>
      </div>
    </div>
  );
}
