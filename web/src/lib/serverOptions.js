// The settings the forms offer, as the server describes them in `GET /api/health` `options`:
// `{train: {name: spec}, cover: {name: spec}}`, a spec being `{type: "integer"|"number", min, max,
// default}`, `{type: "string", choices, default}` or `{type: "boolean", default}` (the server
// writes them from its request types, persona.params). Nothing is written down here: a form shows
// a setting once the server has described it and starts from the server's default, so the page
// trains and covers with exactly what the CLI and the server would use.
import { useHealth } from "./health.js";

/** One group (`"train"`, `"cover"`) of the server's options, or null while unknown. */
export function optionsOf(health, group) {
  const block = health?.options?.[group];
  return block && typeof block === "object" ? block : null;
}

/** `useHealth()`'s options group: null until the server has answered (or when it has none). */
export function useServerOptions(group) {
  return optionsOf(useHealth(), group);
}

/** `{name: default}` of a group (an empty object for none). */
export function defaultsOf(specs) {
  return Object.fromEntries(Object.entries(specs || {}).map(([name, spec]) => [name, spec?.default]));
}

/** What a form shows: the user's value where they set one, else the server's default. */
export function withDefaults(values, specs) {
  return { ...defaultsOf(specs), ...values };
}

/** Only the options the user changed: the server applies its own defaults to the rest. */
export function changedOptions(values, defaults) {
  const out = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === "" || value === null || value === undefined) continue;
    if (String(value) !== String(defaults[key])) out[key] = value;
  }
  return out;
}

/** The words for a choice when the dictionary has them, else the server's own name for it. */
export function choiceLabel(t, key, fallback) {
  const text = t(key);
  return text === key ? fallback : text;
}
