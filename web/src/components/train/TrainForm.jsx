// Train a voice model: recordings, name and epochs, advanced settings; uploads and starts the job.
// The settings and their defaults are the server's (/api/health `options.train`): the form sends
// what it shows, which is the server's default wherever the user changed nothing.
import { useState } from "react";
import { useI18n } from "../../lib/i18n.jsx";
import { KEYS, session } from "../../lib/storage.js";
import { TRAINING_LIMITS } from "../../lib/files.js";
import { useServerOptions, withDefaults } from "../../lib/serverOptions.js";
import { trainingLimits, useHealth } from "../../lib/health.js";
import { useUpload } from "../../lib/useUpload.js";
import { useJobNeeds } from "../../lib/assets.js";
import NeedsNotice from "../NeedsNotice.jsx";
import ErrorBox from "../ErrorBox.jsx";
import ProgressBar from "../ProgressBar.jsx";
import RecordingsPicker from "./RecordingsPicker.jsx";
import NameEpochsFields from "./NameEpochsFields.jsx";
import TrainAdvanced from "./TrainAdvanced.jsx";
import ConsentRecorder from "./ConsentRecorder.jsx";

// Server refusals after which the recorded consent cannot be sent again: record anew.
const CONSENT_RESET = new Set(["consent_challenge_invalid", "consent_replayed", "consent_voice_mismatch", "consent_silent", "consent_not_speech", "consent_too_short", "consent_too_long"]);

export default function TrainForm({ onStarted }) {
  const { t } = useI18n();
  const [files, setFiles] = useState([]);
  const [name, setName] = useState("");
  const specs = useServerOptions("train"); // null until the server has described its settings
  const [changed, setChanged] = useState({}); // what the user set; the rest is the server's default
  const values = withDefaults(changed, specs);
  const change = (key, value) => setChanged((c) => ({ ...c, [key]: value }));
  const upload = useUpload();
  const health = useHealth();
  const limits = trainingLimits(health, TRAINING_LIMITS);
  const consentRequired = Boolean(health?.consent?.required);
  const [consent, setConsent] = useState(null); // {challengeId, blob, filename} once recorded
  const [consentReset, setConsentReset] = useState(0);
  // Asked before anything is uploaded: a training the server cannot run is not offered.
  const needs = useJobNeeds("train", { sample_rate: values.sample_rate, f0_method: values.f0_method });
  const blocked = Boolean(needs?.missing?.length);
  const pickFiles = (next) => {
    setFiles(next);
    if (upload.error?.local === "files" && next.length) upload.setError(null); // no stale "choose a file"
  };
  const typeName = (next) => {
    setName(next);
    if (upload.error?.local === "name" && next.trim()) upload.setError(null);
  };

  const submit = async (e) => {
    e.preventDefault();
    upload.setError(null);
    if (!files.length) return upload.setError({ message: t("train.needFiles"), local: "files" });
    if (!name.trim()) return upload.setError({ message: t("train.needName"), local: "name" });
    if (blocked) return undefined;
    if (consentRequired && !consent) return upload.setError({ message: t("consent.needRecording"), local: "consent" });
    const body = new FormData();
    if (consent) {
      body.append("consent", consent.blob, consent.filename);
      body.append("consent_challenge", consent.challengeId);
    }
    for (const file of files) body.append("files", file, file.name);
    body.append("name", name.trim());
    for (const [key, value] of Object.entries(values)) {
      if (value !== undefined && value !== null) body.append(key, String(value));
    }
    const data = await upload.send("/trainings", body, {
      onError: (code) => CONSENT_RESET.has(code) && setConsentReset((n) => n + 1),
    });
    if (!data) return;
    const started = { job_id: data.job_id, model_name: data.model_name || name.trim(), epochs: Number(values.epochs) };
    session.setJSON(KEYS.trainJob, started);
    onStarted(started);
  };

  const busy = upload.busy;
  return (
    <form onSubmit={submit} noValidate aria-labelledby="train-form-title">
      <h2 id="train-form-title">{t("train.formTitle")}</h2>
      <RecordingsPicker files={files} onChange={pickFiles} limits={limits} disabled={busy} />
      <NameEpochsFields
        name={name}
        onName={typeName}
        epochs={values.epochs ?? ""}
        onEpochs={(v) => change("epochs", v)}
        spec={specs?.epochs}
        disabled={busy}
      />
      <TrainAdvanced specs={specs} values={values} onChange={change} disabled={busy} />
      {consentRequired ? (
        <ConsentRecorder
          name={name}
          value={consent}
          onChange={(c) => {
            setConsent(c);
            if (c && upload.error?.local === "consent") upload.setError(null);
          }}
          resetKey={consentReset}
          disabled={busy}
        />
      ) : null}
      {busy ? (
        <div className="upload">
          <span className="field-label">{t("common.uploading")}</span>
          <ProgressBar value={upload.progress} label={t("common.uploadProgress")} />
        </div>
      ) : null}
      <ErrorBox error={upload.error} reveal={Boolean(upload.error?.sent)} />
      <NeedsNotice id="train-needs" needs={needs} />
      <button
        type="submit"
        className="button button-primary button-wide"
        disabled={busy || blocked}
        aria-describedby={blocked ? "train-needs" : undefined}
      >
        {busy ? t("common.uploading") : t("train.submit")}
      </button>
    </form>
  );
}
