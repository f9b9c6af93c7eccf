// Pitch shift in semitones: a slider, a number box, and one-click hints. The range is the server's
// (`min`/`max`, from /api/health `options.cover.pitch`) when known; -24..24 (the same) until then.
import { useId } from "react";
import { useI18n } from "../lib/i18n.jsx";
import { formatPitch } from "../lib/format.js";

export const PITCH_MIN = -24;
export const PITCH_MAX = 24;

export function clampPitch(value, min = PITCH_MIN, max = PITCH_MAX) {
  const n = Math.round(Number(value));
  if (!Number.isFinite(n)) return 0;
  return Math.min(max, Math.max(min, n));
}

export default function PitchControl({ value, onChange, suggested, disabled = false, min = PITCH_MIN, max = PITCH_MAX }) {
  const { t } = useI18n();
  const id = useId();
  const set = (v) => onChange(clampPitch(v, min, max));
  const hasSuggestion = typeof suggested === "number" && Number.isFinite(suggested);
  return (
    <fieldset className="field pitch" disabled={disabled}>
      <legend className="field-label">{t("pitch.label")}</legend>
      <div className="pitch-row">
        <input
          id={`${id}-range`}
          type="range"
          min={min}
          max={max}
          step={1}
          value={value}
          onChange={(e) => set(e.target.value)}
          aria-label={t("pitch.slider")}
          aria-valuetext={t("pitch.valueText", { value: formatPitch(value) })}
        />
        <label className="pitch-number">
          <span className="visually-hidden">{t("pitch.number")}</span>
          <input
            type="number"
            min={min}
            max={max}
            step={1}
            value={value}
            onChange={(e) => set(e.target.value === "" ? 0 : e.target.value)}
          />
          <span aria-hidden="true">{t("pitch.unit")}</span>
        </label>
      </div>
      <div className="chips" role="group" aria-label={t("pitch.presets")}>
        <button type="button" className="chip" onClick={() => set(-12)} aria-pressed={value === -12}>
          −12 <small>{t("pitch.down")}</small>
        </button>
        <button type="button" className="chip" onClick={() => set(0)} aria-pressed={value === 0}>
          0 <small>{t("pitch.same")}</small>
        </button>
        <button type="button" className="chip" onClick={() => set(12)} aria-pressed={value === 12}>
          +12 <small>{t("pitch.up")}</small>
        </button>
        {hasSuggestion ? (
          <button
            type="button"
            className="chip chip-accent"
            onClick={() => set(suggested)}
            aria-pressed={value === clampPitch(suggested, min, max)}
          >
            {formatPitch(clampPitch(suggested, min, max))} <small>{t("pitch.suggested")}</small>
          </button>
        ) : null}
      </div>
      <p className="field-hint">{t("pitch.hint")}</p>
    </fieldset>
  );
}
