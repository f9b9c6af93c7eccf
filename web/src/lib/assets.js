// Pretrained weights: what is missing (GET /api/assets), what a job with these options needs
// (GET /api/assets/needs), and the download job (POST /api/assets/download) followed live.
//
// One shared state for the whole page: the banner and the Train/Cover buttons read the same
// answer, and a finished download makes every reader ask again.
import { useEffect, useState } from "react";
import { api, errorBody, errorMessage } from "./api.js";

let state = { overview: null, error: null, version: 0 };
const readers = new Set();
let pending = null;

function publish(next) {
  state = { ...state, ...next };
  for (const fn of readers) fn(state);
}

/** Ask the server again (after a download ends, or on first use). */
export function refreshAssets() {
  if (!pending) {
    pending = api
      .get("/assets")
      .then((r) => publish({ overview: r.data, error: null, version: state.version + 1 }))
      .catch((error) => publish({ error }))
      .finally(() => {
        pending = null;
      });
  }
  return pending;
}

/** For tests: forget the shared answer. */
export function resetAssets() {
  state = { overview: null, error: null, version: 0 };
  pending = null;
}

export function useAssets() {
  const [value, setValue] = useState(state);
  useEffect(() => {
    readers.add(setValue);
    if (!state.overview && !pending) refreshAssets();
    else setValue(state);
    return () => readers.delete(setValue);
  }, []);
  return value;
}

/** Start (or join) the download; resolves to the job id, or throws the request's error. */
export async function startAssetsDownload(t) {
  try {
    const r = await api.post("/assets/download", {});
    publish({ overview: { ...(state.overview || {}), job: r.data.job } });
    return r.data.job_id;
  } catch (error) {
    const body = errorBody(error);
    throw { ...body, message: errorMessage(error, t) };
  }
}

/**
 * What a `kind` (train|cover) job with `params` (the form's values) lacks: `{missing, command}`,
 * null until known. Asked again whenever the options or the weights change.
 */
export function useJobNeeds(kind, params) {
  const { version } = useAssets();
  const [needs, setNeeds] = useState(null);
  const query = new URLSearchParams({ kind });
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") query.set(key, String(value));
  }
  const qs = query.toString();
  useEffect(() => {
    let alive = true;
    api
      .get(`/assets/needs?${qs}`)
      .then((r) => alive && setNeeds(r.data))
      .catch(() => alive && setNeeds(null)); // unknown: the server still refuses what cannot run
    return () => {
      alive = false;
    };
  }, [qs, version]);
  return needs;
}
