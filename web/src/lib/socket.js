// One Socket.IO connection for the whole app, and per-job subscriptions that survive reconnects.
//
// The server answers `subscribe {job_id}` at once with the job's current state, so emitting it
// again after every (re)connect is all a page needs to catch up after a dropped connection.
import { io } from "socket.io-client";
import { getToken, onTokenChange } from "./api.js";

export const JOB_EVENTS = ["job_progress", "job_done", "job_failed", "job_cancelled"];

let socket = null;
const listeners = new Map(); // job_id -> Set<(event, data) => void>
const connectionListeners = new Set();

function notifyConnection(connected) {
  for (const fn of connectionListeners) fn(connected);
}

export function getSocket() {
  if (socket) return socket;
  socket = io({
    path: "/socket.io",
    // A function, so every reconnect sends the token current at that moment. Never in the URL:
    // the handshake carries the token cookie (api.js), the connect packet this payload.
    auth: (cb) => cb(getToken() ? { token: getToken() } : {}),
    reconnectionDelay: 500,
    reconnectionDelayMax: 4000,
  });
  socket.on("connect", () => {
    for (const jobId of listeners.keys()) socket.emit("subscribe", { job_id: jobId });
    notifyConnection(true);
  });
  socket.on("disconnect", (reason) => {
    notifyConnection(false);
    // The server dropped us on purpose (e.g. token refused): socket.io will not retry by itself.
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000);
  });
  socket.on("connect_error", () => notifyConnection(false));
  for (const event of JOB_EVENTS) {
    socket.on(event, (data) => {
      const set = data && listeners.get(data.job_id);
      if (set) for (const fn of [...set]) fn(event, data);
    });
  }
  onTokenChange(() => {
    socket.disconnect().connect();
  });
  return socket;
}

/** Connect again (after signing in or out: the handshake carries the new session cookie). */
export function reconnectSocket() {
  if (socket) socket.disconnect().connect();
}

export function isConnected() {
  return Boolean(socket && socket.connected);
}

/** Call `handler(event, data)` for this job's events until the returned function is called. */
export function subscribeJob(jobId, handler) {
  const s = getSocket();
  let set = listeners.get(jobId);
  if (!set) {
    set = new Set();
    listeners.set(jobId, set);
  }
  set.add(handler);
  if (s.connected) s.emit("subscribe", { job_id: jobId });
  return () => {
    set.delete(handler);
    if (set.size === 0) {
      listeners.delete(jobId);
      if (s.connected) s.emit("unsubscribe", { job_id: jobId });
    }
  };
}

/** Call `fn(connected)` whenever the connection goes up or down. */
export function onConnectionChange(fn) {
  getSocket();
  connectionListeners.add(fn);
  return () => connectionListeners.delete(fn);
}
