// A definition list of facts; values that are objects become one line each (voice profile etc.).
import { formatNumber } from "../lib/format.js";

function show(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "number") return formatNumber(value, 2);
  if (typeof value === "boolean") return value ? "✓" : "—";
  if (Array.isArray(value)) return value.map(show).join(", ");
  if (typeof value === "object") {
    return Object.entries(value)
      .map(([k, v]) => `${k.replace(/_/g, " ")}: ${show(v)}`)
      .join(" · ");
  }
  return String(value);
}

export default function Facts({ items, className = "facts" }) {
  return (
    <dl className={className}>
      {items
        .filter(([, value]) => value !== undefined)
        .map(([label, value, testid]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd data-testid={testid}>{typeof value === "object" && value?.$$typeof ? value : show(value)}</dd>
          </div>
        ))}
    </dl>
  );
}

/** Label/value pairs for an object of unknown shape (a voice profile, quality scores). */
export function entriesOf(obj, t, prefix) {
  if (!obj || typeof obj !== "object") return [];
  return Object.entries(obj).map(([key, value]) => {
    const k = `${prefix}.${key}`;
    const label = t(k);
    return [label === k ? key.replace(/_/g, " ") : label, value];
  });
}
