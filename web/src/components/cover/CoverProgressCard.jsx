// A cover in progress: its stages live with Stop; opens the finished cover's page.
import { useEffect, useRef } from "react";
import { useNavigate } from "react-router-dom";
import { useI18n } from "../../lib/i18n.jsx";
import { paths } from "../../lib/api.js";
import { KEYS, session } from "../../lib/storage.js";
import { useStoppableJob } from "../../lib/useStoppableJob.js";
import { useRevealCard } from "../../lib/reveal.js";
import ErrorBox from "../ErrorBox.jsx";
import JobProgress, { inLine } from "../JobProgress.jsx";
import CoverPreview from "./CoverPreview.jsx";

const HEADINGS = { queued: "cover.queued", running: "cover.running", failed: "cover.failed", cancelled: "cover.stopped" };

/** `active`: {job_id, model, song_name} as stored in sessionStorage when the job started. */
export default function CoverProgressCard({ active, onReset }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const { job, status, loadError, connected, stop, stopping, stopError, ended } = useStoppableJob(active.job_id, KEYS.coverJob);
  const card = useRef(null);
  useRevealCard(card, Boolean(job)); // just started or reopened: the progress in view

  useEffect(() => {
    if (status === "succeeded") {
      const result = job.result || {};
      const id = result.cover_id ?? result.id;
      session.setJSON(KEYS.cover, { id, song_name: active.song_name, audio_url: result.audio_url, model: active.model });
      session.set(KEYS.coverJob, null);
      if (id !== undefined) navigate(paths.cover(id));
    } else if (status === "failed" || status === "cancelled") {
      session.set(KEYS.coverJob, null);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [status]);

  return (
    <div ref={card} className="progress-card">
      <h2 data-testid="job-heading">{t(HEADINGS[inLine(job) ? "queued" : status] || "cover.running")}</h2>
      {active.song_name ? <p className="muted">{active.song_name}</p> : null}
      {loadError && !job ? (
        <ErrorBox error={loadError} />
      ) : (
        <JobProgress job={job} title={t("cover.progressTitle")} onStop={stop} stopping={stopping} connected={connected} />
      )}
      {status === "running" ? <CoverPreview jobId={active.job_id} metrics={job?.metrics} /> : null}
      {status === "cancelled" && job?.metrics?.ready_frames ? (
        <p className="muted" data-testid="cover-preview-discarded">
          {t("cover.previewDiscarded")}
        </p>
      ) : null}
      <ErrorBox error={stopError} />
      {ended ? (
        <button type="button" className="button button-ghost" onClick={onReset}>
          {t("cover.again")}
        </button>
      ) : null}
    </div>
  );
}
