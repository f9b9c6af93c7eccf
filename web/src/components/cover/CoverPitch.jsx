// The pitch shift, or "match the song automatically" (the server picks it; the manual control rests).
import { useI18n } from "../../lib/i18n.jsx";
import PitchControl from "../PitchControl.jsx";

export default function CoverPitch({ pitch, onPitch, auto, onAuto, suggested, disabled }) {
  const { t } = useI18n();
  return (
    <>
      <PitchControl value={pitch} onChange={onPitch} suggested={suggested} disabled={disabled || auto} />
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
