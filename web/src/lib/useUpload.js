// One form's upload to the server: the fraction sent so far, the error in words, and abort.
//
// `send(url, body)` posts a FormData body and resolves to the response's data, or to null when
// the request failed (then `error` holds `{message, code, params}`) or was aborted (then no error: the
// user asked for it). `error`/`setError` are the form's one error slot, so checks done before
// anything is sent (no file chosen, no name) show in the same place; `error.sent` marks a refusal
// of what was sent (the form reveals it where the person is looking).
import { useCallback, useRef, useState } from "react";
import { isCancel } from "axios";
import { api, errorBody, errorCode, errorMessage } from "./api.js";
import { useI18n } from "./i18n.jsx";

export function useUpload() {
  const { t } = useI18n();
  const [progress, setProgress] = useState(null); // fraction while uploading, null when idle
  const [error, setError] = useState(null);
  const controller = useRef(null);

  const send = useCallback(
    async (url, body, { onError } = {}) => {
      const ctl = new AbortController();
      controller.current = ctl;
      setError(null);
      setProgress(0);
      try {
        const response = await api.post(url, body, {
          signal: ctl.signal,
          onUploadProgress: (ev) => ev.total && setProgress(ev.loaded / ev.total),
        });
        return response.data;
      } catch (err) {
        if (!isCancel(err)) {
          setError({ ...errorBody(err), message: errorMessage(err, t), code: errorCode(err), sent: true });
          onError?.(errorCode(err));
        }
        return null;
      } finally {
        if (controller.current === ctl) controller.current = null;
        setProgress(null);
      }
    },
    [t],
  );

  const abort = useCallback(() => controller.current?.abort(), []);

  return { send, abort, progress, busy: progress !== null, error, setError };
}
