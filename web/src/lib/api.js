// The HTTP client: one Axios instance for /api, the optional access token, and error wording.
//
// The token (when the server has one) lives in localStorage and goes out as
// `Authorization: Bearer`. A 401 asks the user for it (through the prompt the app registers)
// and retries the request once.
import axios from "axios";
import { KEYS, local } from "./storage.js";
import { errorText } from "./serverText.js";

export const api = axios.create({ baseURL: "/api" });

const tokenListeners = new Set();

export function getToken() {
  return local.get(KEYS.token) || "";
}

// The same token as a SameSite=Strict cookie, so that what the browser fetches by itself
// (<audio src>, the Socket.IO handshake) carries it without putting it in a URL (URLs end up in
// logs and histories). The server reads the cookie on GET/HEAD only, never for a change.
const TOKEN_COOKIE = "persona_token";

function syncTokenCookie(token) {
  if (typeof document === "undefined") return;
  const secure = typeof location !== "undefined" && location.protocol === "https:" ? "; Secure" : "";
  document.cookie = token
    ? `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; SameSite=Strict; Max-Age=31536000${secure}`
    : `${TOKEN_COOKIE}=; Path=/; SameSite=Strict; Max-Age=0${secure}`;
}

syncTokenCookie(getToken()); // a token saved before the cookie existed

export function setToken(token) {
  local.set(KEYS.token, token || null);
  syncTokenCookie(token || "");
  for (const fn of tokenListeners) fn(token || "");
}

export function onTokenChange(fn) {
  tokenListeners.add(fn);
  return () => tokenListeners.delete(fn);
}

let tokenPrompt = null;
let pendingPrompt = null;

/** The app registers a function `(hadToken: boolean) => Promise<string|null>` that asks for the token. */
export function setTokenPrompt(fn) {
  tokenPrompt = fn;
}

function askForToken(hadToken) {
  if (!tokenPrompt) return Promise.resolve(null);
  if (!pendingPrompt) {
    pendingPrompt = Promise.resolve(tokenPrompt(hadToken)).finally(() => {
      pendingPrompt = null;
    });
  }
  return pendingPrompt;
}

// Accounts mode: the session cookie goes by itself; state-changing requests carry the CSRF token
// the server handed out with the session (persona.server.signin). A 401 `auth_required` means
// "sign in" (the account layer listens), not "give the token".
let csrfToken = null;
const signedOutListeners = new Set();
const SAFE = new Set(["get", "head", "options"]);

export function setCsrfToken(token) {
  csrfToken = token || null;
}

export function onSignedOut(fn) {
  signedOutListeners.add(fn);
  return () => signedOutListeners.delete(fn);
}

api.interceptors.request.use((config) => {
  const token = getToken();
  if (token) config.headers.Authorization = `Bearer ${token}`;
  if (csrfToken && !SAFE.has((config.method || "get").toLowerCase())) config.headers["X-CSRF-Token"] = csrfToken;
  return config;
});

api.interceptors.response.use(
  (response) => response,
  async (error) => {
    const config = error.config;
    const code = error.response?.data?.error?.code;
    if (error.response?.status === 401 && code === "auth_required") {
      for (const fn of signedOutListeners) fn();
    }
    const tokenRefused = !code || code === "unauthorized";
    if (error.response?.status === 401 && tokenRefused && config && !config._personaRetried) {
      const token = await askForToken(Boolean(getToken()));
      if (token) {
        setToken(token);
        config._personaRetried = true;
        return api(config);
      }
    }
    // Downloads ask for blobs: turn a JSON error body back into an object so it can be read.
    const data = error.response?.data;
    if (typeof Blob !== "undefined" && data instanceof Blob) {
      try {
        error.response.data = JSON.parse(await data.text());
      } catch {
        /* not JSON: keep the blob */
      }
    }
    throw error;
  },
);

/**
 * The words to show for a failed request: the server's error rendered from its code (the
 * English `message` only for unknown codes), else a translated description of what went wrong
 * (no connection, timeout, HTTP status).
 */
export function errorMessage(error, t) {
  const tr = t || ((key) => key);
  if (!error) return "";
  if (typeof error === "string") return error;
  const body = error.response?.data;
  if (body && typeof body === "object" && body.error) {
    if (typeof body.error === "string") return body.error;
    if (body.error.code || body.error.message) return errorText(body.error, tr);
  }
  if (error.message && !error.isAxiosError && !error.response) return error.message;
  if (error.response) {
    const status = error.response.status;
    if (status === 413) return tr("error.tooLarge");
    if (status === 401) return tr("error.unauthorized");
    return tr("error.http", { status });
  }
  if (error.code === "ECONNABORTED") return tr("error.timeout");
  if (error.request || error.code === "ERR_NETWORK") return tr("error.network");
  return error.message || tr("error.unknown");
}

/** Error code from the server's `{error: {code}}` body, if any. */
export function errorCode(error) {
  const body = error?.response?.data;
  return (body && typeof body === "object" && body.error && body.error.code) || "";
}

/** The server's `{error: {code, message, params}}` body, if any. */
export function errorBody(error) {
  const body = error?.response?.data;
  return body && typeof body === "object" && body.error && typeof body.error === "object" ? body.error : null;
}

export const paths = {
  model: (name) => `/models/${encodeURIComponent(name)}`,
  modelDownload: (name) => `/api/models/${encodeURIComponent(name)}/download`,
  cover: (id) => `/covers/${encodeURIComponent(id)}`,
};

/** Save a server file through Axios (so the token header goes along), as the browser would. */
export async function downloadWithAuth(url, fallbackName) {
  const response = await axios.get(url, {
    responseType: "blob",
    headers: getToken() ? { Authorization: `Bearer ${getToken()}` } : {},
  }).catch(async (error) => {
    const data = error.response?.data;
    if (data instanceof Blob) {
      try {
        error.response.data = JSON.parse(await data.text());
      } catch {
        /* keep */
      }
    }
    throw error;
  });
  const disposition = response.headers["content-disposition"] || "";
  const match = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1] || match[2]) : fallbackName;
  const href = URL.createObjectURL(response.data);
  const a = document.createElement("a");
  a.href = href;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
