// Follow one job: its current state from GET /api/jobs/{id}, then live Socket.IO events.
//
// Events win over the GET answer unless that answer is already final, so a slow GET cannot
// move the bar backwards; a finished job is never reopened by a late progress event.
import { useEffect, useState } from "react";
import { api, errorMessage } from "./api.js";
import { onConnectionChange, subscribeJob, isConnected } from "./socket.js";

export const FINAL = new Set(["succeeded", "failed", "cancelled"]);

function fromEvent(prev, event, data) {
  if (prev && FINAL.has(prev.status)) return prev;
  const base = prev || { id: data.job_id, kind: data.kind, stages: [] };
  switch (event) {
    case "job_progress": {
      const stages = base.stages || [];
      const stage = data.stage || base.stage;
      return {
        ...base,
        status: data.status && !FINAL.has(data.status) ? data.status : "running",
        stage,
        stages: stage && !stages.includes(stage) ? [...stages, stage] : stages,
        progress: typeof data.progress === "number" ? data.progress : base.progress,
        message: data.message ?? base.message,
        eta_s: data.eta_s,
        metrics: data.metrics && Object.keys(data.metrics).length ? data.metrics : base.metrics,
      };
    }
    case "job_done":
      return { ...base, status: "succeeded", progress: 1, eta_s: null, result: data.result };
    case "job_failed":
      return { ...base, status: "failed", error: data.error };
    case "job_cancelled":
      return { ...base, status: "cancelled", eta_s: null, result: data.result ?? base.result };
    default:
      return base;
  }
}

function fromJob(prev, job) {
  const stages = (prev && prev.stages) || [];
  return {
    ...job,
    stages: job.stage && !stages.includes(job.stage) ? [...stages, job.stage] : stages,
  };
}

/**
 * Returns `{job, loadError, connected}`; `job` is null until something is known.
 * `job.status` is queued | running | succeeded | failed | cancelled.
 */
export function useJob(jobId, t) {
  const [job, setJob] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [connected, setConnected] = useState(isConnected());

  useEffect(() => {
    setJob(null);
    setLoadError(null);
    if (!jobId) return undefined;
    let alive = true;
    let heard = false;
    const refresh = () =>
      api
        .get(`/jobs/${encodeURIComponent(jobId)}`)
        .then((response) => {
          if (!alive) return;
          const next = response.data;
          setJob((prev) => {
            if (prev && FINAL.has(prev.status)) return prev;
            // Live events are newer; keep only the facts events do not carry.
            if (heard && !FINAL.has(next.status)) return prev && { ...prev, params: next.params, created_at: next.created_at };
            return fromJob(prev, next);
          });
        })
        .catch((error) => {
          if (alive) setLoadError({ message: errorMessage(error, t), status: error.response?.status });
        });
    refresh();
    const off = subscribeJob(jobId, (event, data) => {
      heard = true;
      setJob((prev) => fromEvent(prev, event, data));
    });
    let wasConnected = isConnected();
    const offConn = onConnectionChange((up) => {
      setConnected(up);
      // After a drop, the server may have finished the job while we were away: ask again.
      if (up && !wasConnected) {
        heard = false;
        refresh();
      }
      wasConnected = up;
    });
    return () => {
      alive = false;
      off();
      offConn();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [jobId]);

  return { job, loadError, connected };
}
