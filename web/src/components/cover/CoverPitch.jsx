// The pitch shift, or "match the song automatically" (the server picks it; the manual control rests).
import { useI18n } from "../../lib/i18n.jsx";
import PitchControl from "../PitchControl.jsx";

/** `spec`: the server's pitch range (`{min, max}`), once known. */
export default function CoverPitch({ pitch, onPitch, auto, onAuto, suggested, spec, disabled }) {
  const { t } = useI18n();
  const range = spec && Number.isFinite(spec.min) && Number.isFinite(spec.max) ? { min: Math.ceil(spec.min), max: Math.floor(spec.max) } : {};
  return (
    <>
      <PitchControl value={pitch} onChange={onPitch} suggested={suggested} disabled={disabled || auto} {...range} />
      <label className="check">
        <input type="checkbox" checked={auto} onChange={(e) => onAuto(e.target.checked)} disabled={disabled} />
        <span>
          {t("cover.pitchAuto")}
          <small>{t("cover.pitchAutoHint")}</small>
        </span>
      </label>
    </>
  );
}
