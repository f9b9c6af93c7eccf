// Quality metrics of a conversion (persona.quality): a number each, or "unavailable" with the
// reason in the person's language (`unavailable_codes`, catalogue `quality.reason.<code>`). The
// server's English reason is shown only in English, and only for a report without codes.
import { useI18n } from "../lib/i18n.jsx";
import { formatNumber } from "../lib/format.js";

export const METRICS = [
  ["speaker_similarity", 3],
  ["f0_corr", 3],
  ["f0_rmse_cents", 0],
  ["dnsmos_ovrl", 2],
];

/** Why `key` is unavailable, in words, or null. */
export function unavailableReason(metrics, key, t, lang) {
  const code = metrics.unavailable_codes?.[key];
  if (code) {
    const text = t(`quality.reason.${code}`);
    if (text !== `quality.reason.${code}`) return text;
  }
  const english = metrics.unavailable?.[key];
  return lang === "en" && english ? english : null;
}

/** [key, label, text, unavailableReason] for the metrics present in `metrics`. */
export function qualityRows(metrics, t, lang = "ko") {
  if (!metrics || typeof metrics !== "object") return [];
  const unavailable = metrics.unavailable || {};
  return METRICS.filter(([key]) => key in metrics || key in unavailable).map(([key, digits]) => {
    const value = metrics[key];
    const label = t(`quality.${key}`);
    if (typeof value === "number") return [key, label, formatNumber(value, digits), null];
    return [key, label, t("quality.unavailable"), unavailableReason(metrics, key, t, lang)];
  });
}

export default function QualityFacts({ metrics, testid = "quality" }) {
  const { t, lang } = useI18n();
  const rows = qualityRows(metrics, t, lang);
  if (!rows.length) return null;
  return (
    <dl className="facts quality-facts" data-testid={testid}>
      {rows.map(([key, label, text, reason]) => (
        <div key={key}>
          <dt>{label}</dt>
          <dd data-testid={`${testid}-${key}`}>
            {text}
            {reason ? <span className="muted quality-reason"> ({reason})</span> : null}
          </dd>
        </div>
      ))}
    </dl>
  );
}
