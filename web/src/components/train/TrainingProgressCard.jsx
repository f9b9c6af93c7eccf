// A training run in progress: live progress with Stop; opens the model when it is done, and after
// a stop offers the last saved model when one was kept.
import { useEffect, useRef, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { useI18n } from "../../lib/i18n.jsx";
import { api, paths } from "../../lib/api.js";
import { KEYS, session } from "../../lib/storage.js";
import { useStoppableJob } from "../../lib/useStoppableJob.js";
import { useRevealCard } from "../../lib/reveal.js";
import ErrorBox from "../ErrorBox.jsx";
import JobProgress, { inLine } from "../JobProgress.jsx";
import SavesPanel from "./SavesPanel.jsx";

const HEADINGS = {
  queued: "train.queued",
  running: "train.running",
  failed: "train.failed",
  cancelled: "train.stopped",
};

/** `active`: {job_id, model_name, epochs} as stored in sessionStorage when the job started. */
export default function TrainingProgressCard({ active, onReset }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const { job, status, loadError, connected, stop, stopping, stopError, ended } = useStoppableJob(active.job_id, KEYS.trainJob);
  const [savedModel, setSavedModel] = useState(null);
  const card = useRef(null);
  useRevealCard(card, Boolean(job)); // just started or reopened: the progress in view

  useEffect(() => {
    if (status === "succeeded") {
      const modelName = job.result?.model_name || active.model_name;
      session.set(KEYS.modelName, modelName);
      session.set(KEYS.trainJob, null);
      navigate(paths.model(modelName), { state: { notice: "trained" } });
    } else if (status === "failed" || status === "cancelled") {
      session.set(KEYS.trainJob, null);
      if (status === "cancelled" && job.result?.saved !== false) {
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

  return (
    <div ref={card} className="progress-card">
      <h2 data-testid="job-heading">{t(HEADINGS[inLine(job) ? "queued" : status] || "train.running", { name: active.model_name })}</h2>
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
      {savedModel ? (
        // next to the "stopped" status, not below the chart: the next step after a stop
        <p className="job-next" data-testid="open-saved">
          <Link className="button button-primary" to={paths.model(savedModel)}>
            {t("train.openSaved")}
          </Link>
        </p>
      ) : null}
      <ErrorBox error={stopError} />
      <SavesPanel
        url={`/jobs/${encodeURIComponent(active.job_id)}/training`}
        refreshKey={`${job?.metrics?.saved_epoch ?? ""}:${job?.metrics?.epoch ?? ""}:${status}`}
        onStop={ended ? null : stop}
        stopping={stopping}
      />
      {ended ? (
        <button type="button" className="button button-ghost" onClick={onReset}>
          {t("train.again")}
        </button>
      ) : null}
    </div>
  );
}
