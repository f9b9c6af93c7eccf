// A form's request: `busy` while it runs, its refusal as `error` (the server's {code, params}, or
// the network's words), and `run(fn)` resolving to whether it went through.
import { useCallback, useState } from "react";
import { errorBody } from "./api.js";

export function useAction(t) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = useCallback(
    async (fn) => {
      setBusy(true);
      setError(null);
      try {
        await fn();
        return true;
      } catch (err) {
        setError(errorBody(err) || { message: t("error.network") });
        return false;
      } finally {
        setBusy(false);
      }
    },
    [t],
  );
  return { busy, error, setError, run };
}
