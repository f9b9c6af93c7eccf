// GET /api/health once per page load, shared by everything that needs it (banner, file limits).
import { useEffect, useState } from "react";
import { api } from "./api.js";

let pending = null;

export function fetchHealth() {
  if (!pending) {
    pending = api
      .get("/health")
      .then((r) => r.data)
      .catch((error) => {
        pending = null; // try again next time
        throw error;
      });
  }
  return pending;
}

/** For tests: forget the cached answer. */
export function resetHealth() {
  pending = null;
}

export function useHealth() {
  const [health, setHealth] = useState(null);
  useEffect(() => {
    let alive = true;
    fetchHealth()
      .then((h) => alive && setHealth(h))
      // A refused token is the token dialog's business, not "server unreachable".
      .catch((error) => alive && setHealth({ status: error.response?.status === 401 ? "unauthorized" : "unreachable" }));
    return () => {
      alive = false;
    };
  }, []);
  return health;
}

/** Training limits from the server's answer, falling back to the defaults given. */
export function trainingLimits(health, defaults) {
  const l = health?.limits;
  if (!l) return defaults;
  return {
    ...defaults,
    maxFiles: l.max_training_files ?? defaults.maxFiles,
    maxFileBytes: l.max_training_file_bytes ?? defaults.maxFileBytes,
    maxTotalBytes: l.max_upload_bytes ?? defaults.maxTotalBytes,
    extensions: Array.isArray(health.audio_formats) && health.audio_formats.length ? health.audio_formats : defaults.extensions,
  };
}
