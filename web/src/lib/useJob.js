// Follow one job: its current state from GET /api/jobs/{id}, then live Socket.IO events.
//
// Events win over the GET answer unless that answer is already final, so a slow GET cannot
// move the bar backwards; a finished job is never reopened by a late progress event.
import { useEffect, useMemo, useState } from "react";
import { api, errorMessage } from "./api.js";
import { useHealth } from "./health.js";
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
        stages: withStage(stages, stage),
        progress: typeof data.progress === "number" ? data.progress : base.progress,
        message: data.message ?? base.message,
        message_code: data.message_code ?? "",
        message_params: data.message_params ?? {},
        queue: data.queue ?? null,
        cancel_requested: data.cancel_requested ?? base.cancel_requested,
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

// The stages seen so far, in the order they were seen.
function withStage(stages, stage) {
  return stage && !stages.includes(stage) ? [...stages, stage] : stages;
}

/** The order `kind`'s stages run in, as the server states it (`GET /api/health` `options.stages`). */
export function stageOrderOf(health, kind) {
  const order = health?.options?.stages?.[kind];
  return Array.isArray(order) ? order : [];
}

// A page opened mid-job (or reloaded) still lists the stages finished before the current one.
export function withEarlierStages(order, stages, stage) {
  const at = order.indexOf(stage);
  const earlier = at > 0 ? order.slice(0, at) : [];
  const out = [...earlier.filter((s) => !stages.includes(s)), ...stages];
  return stage && !out.includes(stage) ? [...out, stage] : out;
}

function fromJob(prev, job) {
  const stages = (prev && prev.stages) || [];
  return { ...job, stages: withStage(stages, job.stage) };
}

// A drop shorter than this (the first connect, a quick reconnect) is not worth a warning.
export const RECONNECT_GRACE_MS = 1500;

/**
 * Returns `{job, loadError, connected}`; `job` is null until something is known.
 * `job.status` is queued | running | succeeded | failed | cancelled.
 */
export function useJob(jobId, t) {
  const [job, setJob] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [connected, setConnected] = useState(true); // until a drop has lasted RECONNECT_GRACE_MS

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
    let downTimer = null;
    const showDown = () => {
      if (downTimer === null) downTimer = setTimeout(() => alive && setConnected(false), RECONNECT_GRACE_MS);
    };
    if (!wasConnected) showDown(); // still connecting: say so only if it takes long
    const offConn = onConnectionChange((up) => {
      if (up) {
        clearTimeout(downTimer);
        downTimer = null;
        setConnected(true);
      } else {
        showDown();
      }
      // After a drop, the server may have finished the job while we were away: ask again.
      if (up && !wasConnected) {
        heard = false;
        refresh();
      }
      wasConnected = up;
    });
    return () => {
      alive = false;
      clearTimeout(downTimer);
      off();
      offConn();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [jobId]);

  const health = useHealth();
  const shown = useMemo(
    () => job && { ...job, stages: withEarlierStages(stageOrderOf(health, job.kind), job.stages || [], job.stage) },
    [job, health],
  );
  return { job: shown, loadError, connected };
}
