// Several songs covered at once: one row per cover job, each with its live progress and, when
// finished, a link to the cover. One view for the whole batch; Stop stays on each cover's own job.
import { useRef } from "react";
import { Link } from "react-router-dom";
import { useI18n } from "../../lib/i18n.jsx";
import { paths } from "../../lib/api.js";
import { FINAL, useJob } from "../../lib/useJob.js";
import { useRevealCard } from "../../lib/reveal.js";
import ProgressBar from "../ProgressBar.jsx";
import { inLine } from "../JobProgress.jsx";

function BatchRow({ item }) {
  const { t } = useI18n();
  const { job } = useJob(item.job_id, t);
  const status = inLine(job) ? "queued" : (job?.status ?? "queued");
  const coverId = job?.result?.cover_id ?? job?.result?.id;
  const label =
    status === "succeeded"
      ? t("cover.batchDone")
      : status === "failed"
        ? t("cover.batchFailed")
        : status === "cancelled"
          ? t("cover.batchCancelled")
          : status === "queued"
            ? t("cover.batchQueued")
            : `${Math.round((job?.progress ?? 0) * 100)}%`;
  return (
    <li className="batch-row" data-testid="batch-row" data-status={status}>
      <div className="batch-row-head">
        <span className="batch-song">{item.song_name}</span>
        <span className="batch-status">{label}</span>
      </div>
      {FINAL.has(status) ? null : <ProgressBar value={job?.progress ?? 0} label={item.song_name} />}
      {status === "succeeded" && coverId !== undefined ? (
        <Link to={paths.cover(coverId)} className="button button-ghost" data-testid="batch-open">
          {t("cover.batchOpen")}
        </Link>
      ) : null}
    </li>
  );
}

/** `items`: [{job_id, model, song_name}], in the order the songs were submitted. */
export default function CoverBatchCard({ items, onReset }) {
  const { t } = useI18n();
  const card = useRef(null);
  useRevealCard(card, true); // the rows follow their own jobs: the card is known at once
  return (
    <div ref={card} className="progress-card" data-testid="cover-batch">
      <h2 data-testid="job-heading">{t("cover.batchTitle", { count: items.length })}</h2>
      <ol className="batch-list">
        {items.map((item) => (
          <BatchRow key={item.job_id} item={item} />
        ))}
      </ol>
      <button type="button" className="button button-ghost" onClick={onReset}>
        {t("cover.again")}
      </button>
    </div>
  );
}
