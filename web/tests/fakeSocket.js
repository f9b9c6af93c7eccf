// Stand-in for src/lib/socket.js: tests push job events and flip the connection by hand.
const handlers = new Map();
const connListeners = new Set();
let connected = true;
export const emitted = [];

export const JOB_EVENTS = ["job_progress", "job_done", "job_failed", "job_cancelled"];

export function subscribeJob(jobId, handler) {
  emitted.push(["subscribe", jobId]);
  if (!handlers.has(jobId)) handlers.set(jobId, new Set());
  handlers.get(jobId).add(handler);
  return () => handlers.get(jobId)?.delete(handler);
}
export function onConnectionChange(fn) {
  connListeners.add(fn);
  return () => connListeners.delete(fn);
}
export function isConnected() {
  return connected;
}
export function getSocket() {
  return null;
}

/** Deliver a server event to the page. */
export function serverEmit(event, data) {
  for (const fn of handlers.get(data.job_id) || []) fn(event, data);
}
export function setConnected(up) {
  connected = up;
  for (const fn of [...connListeners]) fn(up);
}
export function resetFakeSocket() {
  handlers.clear();
  connListeners.clear();
  connected = true;
  emitted.length = 0;
}
