// Live state of one job: stages seen so far, overall progress, epoch/losses/ETA, Stop.
import { useI18n } from "../lib/i18n.jsx";
import { formatDuration, formatEta, formatNumber } from "../lib/format.js";
import { FINAL } from "../lib/useJob.js";
import ProgressBar from "./ProgressBar.jsx";
import ErrorBox from "./ErrorBox.jsx";
import { progressText } from "../lib/serverText.js";
import { useTimeLeft } from "../lib/timeLeft.js";

function stageLabel(t, stage) {
  const key = `stage.${stage}`;
  const text = t(key);
  return text === key ? stage : text;
}

/** Loss-like metrics, in a stable order, for display. */
export function lossEntries(metrics) {
  if (!metrics || typeof metrics !== "object") return [];
  return Object.entries(metrics)
    .filter(([key, value]) => /loss/i.test(key) && typeof value === "number")
    .sort(([a], [b]) => a.localeCompare(b));
}

export function epochOf(metrics, fallbackTotal = null) {
  if (!metrics) return null;
  const epoch = metrics.epoch;
  if (typeof epoch !== "number") return null;
  const total = metrics.epochs ?? metrics.total_epochs ?? metrics.epoch_total ?? fallbackTotal;
  return { epoch, total: typeof total === "number" ? total : null };
}

// Stages that are the queue's bookkeeping, not steps of the work.
const HIDDEN_STAGES = new Set(["queued", "waiting", "starting", "done", "finished"]);

/** Not started yet: queued, or taken by a worker that waits for the device (the server's line). */
export function inLine(job) {
  return job?.status === "queued" || (job?.status === "running" && job?.stage === "waiting");
}

export default function JobProgress({ job, title, onStop, stopping = false, connected = true }) {
  const { t } = useI18n();
  const metricsNow = job?.metrics || {};
  const ticking = Boolean(job) && !FINAL.has(job.status) && connected && job.status === "running";
  const left = useTimeLeft(job?.eta_s, metricsNow.eta_low_s, metricsNow.eta_high_s, ticking);
  if (!job) {
    return (
      <section className="job" aria-live="polite" aria-busy="true">
        <p className="muted">{t("job.loading")}</p>
      </section>
    );
  }
  const final = FINAL.has(job.status);
  const metrics = job.metrics || {};
  const epoch = epochOf(metrics, job.params?.epochs ?? job.epochs ?? null);
  const losses = lossEntries(metrics);
  const stages = (job.stages && job.stages.length ? job.stages : job.stage ? [job.stage] : []).filter(
    (s) => !HIDDEN_STAGES.has(s),
  );
  const status = inLine(job) ? "queued" : job.status || "queued";
  // A stopped job's checklist: the stage the stop cut short is not done (a training stopped
  // mid-way has not finished 학습, even when its last save was exported afterwards).
  const cutShort = status === "cancelled" ? (stages.includes("train") ? "train" : stages[stages.length - 1]) : null;
  const stopAsked = !final && (stopping || job.cancel_requested);
  return (
    <section className={`job job-${status}`} aria-label={title}>
      <div className="job-head">
        <h3>{title}</h3>
        <span className={`badge badge-${status}`} data-testid="job-status">
          {t(`status.${status}`)}
        </span>
      </div>
      {stages.length ? (
        <ol className="stages" aria-label={t("job.stages")}>
          {stages.map((stage, i) => {
            const current = !final && i === stages.length - 1;
            const done = (i < stages.length - 1 || status === "succeeded") && stage !== cutShort;
            return (
              <li
                key={stage}
                className={current ? "stage-current" : done ? "stage-done" : "stage-stopped"}
                aria-current={current ? "step" : undefined}
                data-testid={`stage-${stage}`}
                data-done={done ? "true" : "false"}
              >
                <span className="stage-dot" aria-hidden="true">
                  {done ? "✓" : ""}
                </span>
                {stageLabel(t, stage)}
                {stage === cutShort ? <span className="visually-hidden"> ({t("status.cancelled")})</span> : null}
              </li>
            );
          })}
        </ol>
      ) : null}
      {status === "cancelled" ? null : (
        <div aria-live="polite">
          <ProgressBar value={job.progress} label={t("job.progress")} indeterminate={!final && status === "queued"} />
        </div>
      )}
      <dl className="facts facts-inline">
        {epoch ? (
          <div>
            <dt>{t("job.epoch")}</dt>
            <dd data-testid="job-epoch">{epoch.total ? `${epoch.epoch} / ${epoch.total}` : epoch.epoch}</dd>
          </div>
        ) : null}
        {losses.map(([key, value]) => (
          <div key={key}>
            <dt>{t(`loss.${key}`) === `loss.${key}` ? key.replace(/_/g, " ") : t(`loss.${key}`)}</dt>
            <dd>{formatNumber(value)}</dd>
          </div>
        ))}
        {!final && connected && status === "running" && (formatEta(job.eta_s) || "eta_low_s" in metrics) ? (
          // a measured clock (a training) gives a range, and says "계산 중" until it can tell;
          // between reports it counts down (and says "계산 중" again once even its longest ran out)
          <div>
            <dt>{t("job.eta")}</dt>
            <dd data-testid="job-eta">{(left && formatEta(left.mid, left.low, left.high)) || t("job.etaUnknown")}</dd>
          </div>
        ) : null}
      </dl>
      {status === "queued" && job.queue?.position ? (
        <p className="job-queue" data-testid="job-queue">
          {t("job.queuePlace", { n: job.queue.position })}
          {typeof job.queue.wait_s === "number" ? ` · ${t("job.queueWait", { wait: formatDuration(job.queue.wait_s) })}` : ""}
        </p>
      ) : null}
      {!final && !stopAsked && progressText(job, t) ? (
        <p className="job-message" data-testid="job-message">
          {progressText(job, t)}
        </p>
      ) : null}
      {stopAsked ? (
        // said once, here; the Stop buttons are gone meanwhile
        <p className="notice" role="status" data-testid="job-stopping">
          {t("job.stopping")}
        </p>
      ) : null}
      {!connected && !final ? (
        <p className="notice" role="status">
          {t("job.reconnecting")}
        </p>
      ) : null}
      {status === "failed" ? <ErrorBox error={job.error || t("job.failedUnknown")} /> : null}
      {status === "cancelled" ? (
        <p className="notice" data-testid="job-cancelled">
          {job.kind === "train" && job.result?.saved === false
            ? t("job.nothingSaved")
            : job.kind === "train" && job.result?.saved
              ? t("job.stoppedSaved")
              : t("job.cancelled")}
        </p>
      ) : null}
      {onStop && !final && !stopAsked ? (
        <button type="button" className="button button-danger" onClick={onStop}>
          {t("job.stop")}
        </button>
      ) : null}
    </section>
  );
}
