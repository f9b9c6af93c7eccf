// `/library`: every model and cover, with open, download and (confirmed) delete.
import { useCallback, useEffect, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { useI18n } from "../lib/i18n.jsx";
import { useTitle } from "../lib/useTitle.js";
import { api, errorCode, errorMessage, paths } from "../lib/api.js";
import { KEYS, session } from "../lib/storage.js";
import { coverPitchText, formatBytes, formatDate, formatDuration, formatSampleRate } from "../lib/format.js";
import ErrorBox from "../components/ErrorBox.jsx";
import ConfirmDialog from "../components/ConfirmDialog.jsx";
import DownloadLink from "../components/DownloadLink.jsx";
import ProgressBar from "../components/ProgressBar.jsx";
import MergeForm from "../components/library/MergeForm.jsx";
import { FINAL, useJob } from "../lib/useJob.js";
import { progressText } from "../lib/serverText.js";
import PageHead from "../components/PageHead.jsx";

/** One listed job, followed live over Socket.IO (progress, place in the queue, status). */
function JobRow({ listed, onOpen }) {
  const { t } = useI18n();
  const { job: live } = useJob(listed.id, t);
  const job = live ? { ...listed, ...live, model: listed.model, params: listed.params } : listed;
  const status = job.status || "queued";
  return (
    <li className="item" data-testid="job-row">
      <div className="item-main">
        <span className="item-title">
          {t(job.kind === "train" ? "library.jobTrain" : "library.jobCover", {
            model: job.model || "",
            song: job.params?.song_name || "",
          })}{" "}
          <span className={`badge badge-${status}`}>{t(`status.${status}`)}</span>
        </span>
        {status === "queued" && job.queue?.position ? (
          <span className="item-meta">
            {t("job.queuePlace", { n: job.queue.position })}
            {typeof job.queue.wait_s === "number" ? ` · ${t("job.queueWait", { wait: formatDuration(job.queue.wait_s) })}` : ""}
          </span>
        ) : progressText(job, t) ? (
          <span className="item-meta">{progressText(job, t)}</span>
        ) : null}
        {FINAL.has(status) ? null : (
          <ProgressBar value={job.progress} label={t("job.progress")} indeterminate={status === "queued"} />
        )}
      </div>
      <div className="item-actions">
        <button type="button" className="button button-small" onClick={() => onOpen(job)}>
          {t("library.watch")}
        </button>
      </div>
    </li>
  );
}

/** Jobs still queued or running, so a closed tab can find its work again; live from any tab. */
function RunningJobs() {
  const { t } = useI18n();
  const navigate = useNavigate();
  const [jobs, setJobs] = useState([]);
  useEffect(() => {
    let alive = true;
    api
      .get("/jobs", { params: { status: "queued,running" } })
      .then((r) => alive && setJobs((r.data || []).filter((j) => j.kind === "train" || j.kind === "cover")))
      .catch(() => {}); // the list is a convenience: the rest of the page shows errors
    return () => {
      alive = false;
    };
  }, []);
  if (!jobs.length) return null;
  const open = (job) => {
    if (job.kind === "train") {
      session.setJSON(KEYS.trainJob, { job_id: job.id, model_name: job.model, epochs: job.params?.epochs });
      navigate("/train");
    } else {
      session.setJSON(KEYS.coverJob, { job_id: job.id, model: job.model, song_name: job.params?.song_name });
      navigate(paths.model(job.model));
    }
  };
  return (
    <section className="card" aria-labelledby="lib-jobs">
      <div className="card-head">
        <h2 id="lib-jobs">{t("library.running")}</h2>
      </div>
      <ul className="items" data-testid="job-list">
        {jobs.map((job) => (
          <JobRow key={job.id} listed={job} onOpen={open} />
        ))}
      </ul>
    </section>
  );
}

function byNewest(a, b) {
  return String(b.created_at || "").localeCompare(String(a.created_at || ""));
}

// A list of the library's models or covers: loading, empty, or the items.
function Listing({ list, error, empty, testid, children }) {
  const { t } = useI18n();
  if (list === null) return error ? null : <p className="muted">{t("common.loading")}</p>;
  if (!list.length) return <p className="empty">{empty}</p>;
  return (
    <ul className="items" data-testid={testid}>
      {children}
    </ul>
  );
}

// One model or cover: its name (a link), facts, and open / download / delete.
function Item({ to, title, meta, openLabel, download, onDelete, deleteLabel }) {
  const { t } = useI18n();
  return (
    <li className="item">
      <div className="item-main">
        <Link to={to} className="item-title">
          {title}
        </Link>
        <span className="item-meta">{meta.filter((v) => v && v !== "—").join(" · ")}</span>
      </div>
      <div className="item-actions">
        <Link to={to} className="button button-small button-primary">
          {openLabel}
        </Link>
        <DownloadLink {...download} className="button button-small button-ghost">
          {t("library.download")}
        </DownloadLink>
        <button type="button" className="button button-small button-ghost button-danger-text" onClick={onDelete} aria-label={deleteLabel}>
          {t("library.delete")}
        </button>
      </div>
    </li>
  );
}

export default function LibraryPage() {
  const { t, lang } = useI18n();
  useTitle(t("library.title"));
  const [models, setModels] = useState(null);
  const [covers, setCovers] = useState(null);
  const [error, setError] = useState(null);
  const [pending, setPending] = useState(null); // {kind: "model"|"cover", id, label}
  const [deleting, setDeleting] = useState(false);

  const load = useCallback(() => {
    setError(null);
    Promise.all([api.get("/models"), api.get("/covers")])
      .then(([m, c]) => {
        setModels([...(m.data || [])].sort(byNewest));
        setCovers([...(c.data || [])].sort(byNewest));
      })
      .catch((err) => setError({ message: errorMessage(err, t), code: errorCode(err) }));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(load, [load]);

  const confirmDelete = async () => {
    const target = pending;
    setDeleting(true);
    try {
      if (target.kind === "model") {
        await api.delete(`/models/${encodeURIComponent(target.id)}`);
        setModels((list) => list.filter((m) => m.name !== target.id));
        if (session.get(KEYS.modelName) === target.id) session.set(KEYS.modelName, null);
      } else {
        await api.delete(`/covers/${encodeURIComponent(target.id)}`);
        setCovers((list) => list.filter((c) => String(c.id) !== String(target.id)));
      }
      setPending(null);
    } catch (err) {
      setError({ message: errorMessage(err, t), code: errorCode(err) });
      setPending(null);
    } finally {
      setDeleting(false);
    }
  };

  return (
    <div className="page">
      <PageHead title={t("library.title")} lead={t("library.lead")} />
      <ErrorBox error={error} onDismiss={() => setError(null)} dismissLabel={t("common.close")} />
      <RunningJobs />
      <section className="card" aria-labelledby="lib-models">
        <div className="card-head">
          <h2 id="lib-models">{t("library.models")}</h2>
          <Link to="/train" className="button button-small">
            {t("library.newModel")}
          </Link>
        </div>
        <Listing list={models} error={error} empty={t("library.noModels")} testid="model-list">
          {(models || []).map((m) => (
            <Item
              key={m.name}
              to={paths.model(m.name)}
              title={m.name}
              meta={[m.version, formatSampleRate(m.sample_rate), formatBytes(m.size_bytes, lang), formatDate(m.created_at, lang)]}
              openLabel={t("library.makeCover")}
              download={{ href: paths.modelDownload(m.name), filename: `${m.name}.zip` }}
              onDelete={() => setPending({ kind: "model", id: m.name, label: m.name })}
              deleteLabel={t("library.deleteModel", { name: m.name })}
            />
          ))}
        </Listing>
      </section>
      {models && models.length >= 2 ? (
        <section className="card" aria-labelledby="lib-merge">
          <details>
            <summary>
              <h2 id="lib-merge" className="inline-heading">
                {t("merge.title")}
              </h2>
            </summary>
            <MergeForm models={models} />
          </details>
        </section>
      ) : null}
      <section className="card" aria-labelledby="lib-covers">
        <div className="card-head">
          <h2 id="lib-covers">{t("library.covers")}</h2>
        </div>
        <Listing list={covers} error={error} empty={t("library.noCovers")} testid="cover-list">
          {(covers || []).map((c) => (
            <Item
              key={c.id}
              to={paths.cover(c.id)}
              title={c.song_name || c.id}
              meta={[c.model, coverPitchText(c, t), formatDuration(c.duration_s), formatDate(c.created_at, lang)]}
              openLabel={t("library.play")}
              download={{ href: c.download_url || `/api/covers/${encodeURIComponent(c.id)}/download` }}
              onDelete={() => setPending({ kind: "cover", id: c.id, label: c.song_name || c.id })}
              deleteLabel={t("library.deleteCover", { name: c.song_name || c.id })}
            />
          ))}
        </Listing>
      </section>
      {pending ? (
        <ConfirmDialog
          title={pending.kind === "model" ? t("library.confirmModelTitle") : t("library.confirmCoverTitle")}
          message={t(pending.kind === "model" ? "library.confirmModel" : "library.confirmCover", { name: pending.label })}
          confirmLabel={t("library.delete")}
          busy={deleting}
          onConfirm={confirmDelete}
          onCancel={() => setPending(null)}
        />
      ) : null}
    </div>
  );
}
