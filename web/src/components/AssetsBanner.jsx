// The weights banner: what jobs need and the server lacks, its size, one button to get it (a
// download job with bytes, speed and time left), and the command for a machine without internet.
// The download is the server's job: with accounts only an administrator starts it (the server
// says so in `can_download`); everyone else reads who to ask and follows a download once it runs.
import { useEffect, useState } from "react";
import { useI18n } from "../lib/i18n.jsx";
import { formatBytes, formatDuration } from "../lib/format.js";
import { refreshAssets, startAssetsDownload, useAssets } from "../lib/assets.js";
import { useJob, FINAL } from "../lib/useJob.js";
import ErrorBox from "./ErrorBox.jsx";
import ProgressBar from "./ProgressBar.jsx";

function DownloadProgress({ job, t, lang }) {
  const m = job.metrics || {};
  return (
    <div className="assets-progress" data-testid="assets-progress">
      <ProgressBar value={job.progress} label={t("assets.progress")} indeterminate={job.status === "queued"} />
      <p className="muted">
        {typeof m.bytes_done === "number" && typeof m.bytes_total === "number"
          ? t("assets.bytes", { done: formatBytes(m.bytes_done, lang), total: formatBytes(m.bytes_total, lang) })
          : t("assets.starting")}
        {typeof m.bytes_per_s === "number" ? ` · ${formatBytes(m.bytes_per_s, lang)}/s` : ""}
        {typeof job.eta_s === "number" ? ` · ${t("job.eta")} ${formatDuration(job.eta_s)}` : ""}
      </p>
    </div>
  );
}

export default function AssetsBanner() {
  const { t, lang } = useI18n();
  const { overview } = useAssets();
  const [jobId, setJobId] = useState(null);
  const [error, setError] = useState(null);
  const { job } = useJob(jobId, t);

  useEffect(() => {
    // A download started elsewhere (another tab, the terminal's page) is followed here too.
    if (!jobId && overview?.job?.id) setJobId(overview.job.id);
  }, [overview, jobId]);

  useEffect(() => {
    if (!job || !FINAL.has(job.status)) return;
    if (job.status === "failed") setError(job.error || { code: "download_failed" });
    setJobId(null);
    refreshAssets();
  }, [job]);

  if (!overview) return null;
  const missing = overview.missing || [];
  const running = job && !FINAL.has(job.status);
  if (!missing.length && !running) return null;
  const canDownload = overview.can_download !== false; // an older server does not say: it lets anyone

  const start = async () => {
    setError(null);
    try {
      setJobId(await startAssetsDownload(t));
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section className="banner banner-warn assets-banner" aria-labelledby="assets-title" data-testid="assets-banner">
      <h2 id="assets-title" className="banner-title">
        {t("assets.title")}
      </h2>
      <p>{t("assets.lead")}</p>
      <ul className="assets-list">
        {missing.map((item) => (
          <li key={item.name}>
            <span className="asset-name">{t(`assets.group.${item.group}`) === `assets.group.${item.group}` ? item.group : t(`assets.group.${item.group}`)}</span>{" "}
            <code>{item.name}</code> <span className="muted">{formatBytes(item.size, lang)}</span>
          </li>
        ))}
      </ul>
      {running ? (
        <DownloadProgress job={job} t={t} lang={lang} />
      ) : !canDownload ? (
        <p data-testid="assets-ask-admin">{t("assets.askAdmin")}</p>
      ) : (
        <button type="button" className="button button-primary" onClick={start} data-testid="assets-download">
          {error
            ? t("assets.retry")
            : typeof overview.missing_bytes === "number"
              ? t("assets.download", { size: formatBytes(overview.missing_bytes, lang) })
              : t("assets.downloadNoSize")}
        </button>
      )}
      <ErrorBox error={error} />
      {canDownload ? (
        <details className="assets-offline">
          <summary>{t("assets.offline")}</summary>
          <p>{t("assets.offlineHelp")}</p>
          <pre>
            <code>{overview.command || "persona assets download"}</code>
          </pre>
          <pre>
            <code>{overview.import_command || "persona assets import DIR"}</code>
          </pre>
        </details>
      ) : null}
    </section>
  );
}
