// A running job the page follows and may stop: useJob's live state, a Stop that asks the server
// to cancel, and the stored job (a sessionStorage key) forgotten once the server no longer knows it.
import { useCallback, useEffect, useState } from "react";
import { api, errorCode, errorMessage } from "./api.js";
import { useI18n } from "./i18n.jsx";
import { session } from "./storage.js";
import { useJob } from "./useJob.js";

/**
 * Returns `{job, status, loadError, connected, stop, stopping, stopError, ended}`.
 * `ended` is true when the job failed, was cancelled, or is gone (404): nothing to open, the
 * page offers to start again. A success is the caller's to handle (it opens the result).
 */
export function useStoppableJob(jobId, sessionKey) {
  const { t } = useI18n();
  const { job, loadError, connected } = useJob(jobId, t);
  const [stopping, setStopping] = useState(false);
  const [stopError, setStopError] = useState(null);

  useEffect(() => {
    if (loadError?.status === 404) session.set(sessionKey, null);
  }, [loadError, sessionKey]);

  const stop = useCallback(async () => {
    setStopping(true);
    setStopError(null);
    try {
      await api.post(`/jobs/${encodeURIComponent(jobId)}/cancel`);
    } catch (err) {
      setStopError({ message: errorMessage(err, t), code: errorCode(err) });
      setStopping(false);
    }
  }, [jobId, t]);

  const status = job?.status;
  const ended = status === "failed" || status === "cancelled" || loadError?.status === 404;
  return { job, status, loadError, connected, stop, stopping, stopError, ended };
}
