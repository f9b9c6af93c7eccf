// Server messages in the user's language: errors `{code, message, params}` and progress
// `message_code` + `message_params`, rendered from the catalogue (messages.js `error.<code>`,
// `progress.<code>`). The server's English `message` is used only for a code the catalogue does
// not know; a progress message without a code is internal and never shown.

function prepared(t, params) {
  const out = {};
  for (const [key, value] of Object.entries(params || {})) {
    if (value === null || value === undefined || typeof value === "object") continue;
    if (key === "field") {
      const label = t(`field.${value}`);
      out[key] = label === `field.${value}` ? String(value).replace(/_/g, " ") : label;
    } else {
      out[key] = value;
    }
  }
  return out;
}

function fill(t, key, params) {
  const vars = prepared(t, params);
  const text = t(key, vars);
  if (text === key) return null;
  // A placeholder the server did not fill: drop the aside holding it rather than show "{max}".
  return text
    .replace(/\s*\([^()]*\{\w+\}[^()]*\)/g, "")
    .replace(/\s*\{\w+\}/g, "")
    .replace(/\s+([.,])(?=\s|$)/g, "$1"); // "text ." left by a dropped aside; never " .zip"
}

/** An error object `{code, message, params}` as words for a person. */
export function errorText(error, t) {
  if (!error) return "";
  if (typeof error === "string") return error;
  const code = error.code;
  // A refusal with a reason (a weak password: too short, contains the name...) has its own words.
  const reason = error.params?.reason;
  const text = code
    ? (reason && fill(t, `error.${code}.${reason}`, error.params)) || fill(t, `error.${code}`, error.params)
    : null;
  if (!text) return error.message || code || t("error.unknown");
  const file = error.params?.file;
  return file && !t(`error.${code}`).includes("{file}") ? `‘${file}’ — ${text}` : text;
}

/** A job's current progress message, or "" when it has none a person should read. */
export function progressText(job, t) {
  const code = job?.message_code;
  if (!code) return "";
  return fill(t, `progress.${code}`, job.message_params) || "";
}
