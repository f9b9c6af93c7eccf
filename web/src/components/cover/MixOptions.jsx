// Mix (folded): vocal/instrumental gain, reverb, file format, separation model, key from the whole song.
import { useI18n } from "../../lib/i18n.jsx";
import RangeField from "../RangeField.jsx";
import SeparationField from "./SeparationField.jsx";

const db = (v) => `${v > 0 ? "+" : ""}${v} dB`;

/** `values` holds the mix and separation options; `set(key)` returns that option's setter. */
export default function MixOptions({ values, set }) {
  const { t } = useI18n();
  return (
    <details className="advanced">
      <summary>{t("cover.mix")}</summary>
      <div className="grid-fields">
        <RangeField id="mx-vocal" label={t("cover.vocalGain")} min={-24} max={12} step={1} value={values.vocal_gain} onChange={set("vocal_gain")} format={db} />
        <RangeField id="mx-inst" label={t("cover.instrumentalGain")} min={-24} max={12} step={1} value={values.instrumental_gain} onChange={set("instrumental_gain")} format={db} />
        <RangeField id="mx-reverb" label={t("cover.reverb")} min={0} max={1} step={0.05} value={values.reverb} onChange={set("reverb")} />
        <div className="field">
          <label htmlFor="mx-format" className="field-label">
            {t("cover.format")}
          </label>
          <select id="mx-format" value={values.format} onChange={(e) => set("format")(e.target.value)}>
            <option value="wav">WAV</option>
            <option value="mp3">MP3</option>
          </select>
        </div>
        <SeparationField value={values.separation_model} onChange={set("separation_model")} />
      </div>
      <label className="check">
        <input type="checkbox" checked={values.key_mode === "song"} onChange={(e) => set("key_mode")(e.target.checked ? "song" : "vocals")} />
        <span>
          {t("cover.keyModeSong")}
          <small>{t("cover.keyModeSongHint")}</small>
        </span>
      </label>
    </details>
  );
}
