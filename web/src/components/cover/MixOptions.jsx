// Mix (folded): vocal/instrumental gain, reverb, file format, separation model, key from the whole
// song. Ranges and choices are the server's (`specs`, /api/health `options.cover`).
import { useI18n } from "../../lib/i18n.jsx";
import ChoiceSelect from "../ChoiceSelect.jsx";
import RangeField from "../RangeField.jsx";
import SeparationField from "./SeparationField.jsx";
import Check from "./Check.jsx";

const db = (v) => `${v > 0 ? "+" : ""}${v} dB`;

/** `values`: what the form shows (server defaults under the user's changes); `set(key)` is that option's setter. */
export default function MixOptions({ specs, values, set }) {
  const { t } = useI18n();
  const range = (key, id, label, step, format) =>
    specs[key] ? (
      <RangeField id={id} label={label} min={specs[key].min} max={specs[key].max} step={step} value={values[key]} onChange={set(key)} format={format} />
    ) : null;
  const keyModes = specs.key_mode?.choices || [];
  return (
    <details className="advanced">
      <summary>{t("cover.mix")}</summary>
      <div className="grid-fields">
        {range("vocal_gain", "mx-vocal", t("cover.vocalGain"), 1, db)}
        {range("instrumental_gain", "mx-inst", t("cover.instrumentalGain"), 1, db)}
        {range("reverb", "mx-reverb", t("cover.reverb"), 0.05)}
        {specs.format ? (
          <ChoiceSelect id="mx-format" label={t("cover.format")} spec={specs.format} value={values.format} onChange={set("format")} labelOf={(f) => (t(`format.${f}`) === `format.${f}` ? f.toUpperCase() : t(`format.${f}`))} />
        ) : null}
        {specs.separation_model ? <SeparationField spec={specs.separation_model} value={values.separation_model} onChange={set("separation_model")} /> : null}
      </div>
      {keyModes.includes("song") && keyModes.includes("vocals") ? (
        <Check
          label={t("cover.keyModeSong")}
          hint={t("cover.keyModeSongHint")}
          checked={values.key_mode === "song"}
          onChange={(on) => set("key_mode")(on ? "song" : "vocals")}
        />
      ) : null}
    </details>
  );
}
