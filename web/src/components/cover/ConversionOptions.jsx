// Advanced conversion (folded): pitch extraction (hybrids too), autotune, formant, content encoder, unvoiced-frame convention,
// index/filter/RMS/protect, de-reverb, lead/backing.
// Ranges and choices are the server's (`specs`, /api/health `options.cover`); a setting the server
// does not describe is not offered.
import { useI18n } from "../../lib/i18n.jsx";
import { choiceLabel } from "../../lib/serverOptions.js";
import ChoiceSelect from "../ChoiceSelect.jsx";
import RangeField from "../RangeField.jsx";
import Check from "./Check.jsx";

// Hybrids the server accepts (its `pattern`) offered as ready-made choices.
export const HYBRID_PRESETS = ["hybrid[rmvpe+fcpe+swiftf0]", "hybrid[rmvpe+crepe]"];

export function withHybrids(spec) {
  if (!spec.pattern) return spec;
  const re = new RegExp(`^${spec.pattern}$`);
  const extra = HYBRID_PRESETS.filter((h) => re.test(h) && !spec.choices.includes(h));
  return { ...spec, choices: [...spec.choices, ...extra] };
}

/** "c# minor" -> "C# minor" (the server's choices are lower-case), "chromatic" from the catalogue. */
export function keyLabel(t) {
  return (key) => (key === "chromatic" ? t("cover.autotuneKey.chromatic") : key.charAt(0).toUpperCase() + key.slice(1));
}

/** `values`: what the form shows (server defaults under the user's changes); `set(key)` is that option's setter. */
export default function ConversionOptions({ specs, values, set }) {
  const { t } = useI18n();
  const range = (key, id, label, hint, step) =>
    specs[key] ? (
      <RangeField id={id} label={label} min={specs[key].min} max={specs[key].max} step={step} value={values[key]} onChange={set(key)} hint={hint} />
    ) : null;
  // A server-described choice; `prefix` names its options in the catalogue (`${prefix}.${value}`).
  const select = (key, id, label, prefix, { spec = specs[key], labelOf = (v) => choiceLabel(t, `${prefix}.${v}`, v) } = {}) =>
    specs[key] ? <ChoiceSelect id={id} label={label} spec={spec} value={values[key]} onChange={set(key)} labelOf={labelOf} /> : null;
  return (
    <details className="advanced">
      <summary>{t("cover.advanced")}</summary>
      <div className="grid-fields">
        {select("f0_method", "cv-f0", t("cover.f0Method"), "f0", { spec: specs.f0_method && withHybrids(specs.f0_method) })}
        {range("autotune", "cv-autotune", t("cover.autotune"), t("cover.autotuneHint"), 0.05)}
        {specs.autotune_key && Number(values.autotune) > 0 ? select("autotune_key", "cv-autotune-key", t("cover.autotuneKey"), "", { labelOf: keyLabel(t) }) : null}
        {range("formant", "cv-formant", t("cover.formant"), t("cover.formantHint"), 0.5)}
        {select("embedder", "cv-embedder", t("cover.embedder"), "cover.embedder")}
        {select("f0_unvoiced", "cv-f0-unvoiced", t("cover.f0Unvoiced"), "f0Unvoiced")}
        {range("index_rate", "cv-index", t("cover.indexRate"), t("cover.indexRateHint"), 0.05)}
        {range("filter_radius", "cv-filter", t("cover.filterRadius"), t("cover.filterRadiusHint"), 1)}
        {range("rms_mix_rate", "cv-rms", t("cover.rmsMixRate"), t("cover.rmsMixRateHint"), 0.05)}
        {range("protect", "cv-protect", t("cover.protect"), t("cover.protectHint"), 0.01)}
      </div>
      <div className="checks">
        {specs.f0_octave_fix ? (
          <Check label={t("cover.octaveFix")} hint={t("cover.octaveFixHint")} checked={values.f0_octave_fix} onChange={set("f0_octave_fix")} />
        ) : null}
        {specs.dereverb ? <Check label={t("cover.dereverb")} hint={t("cover.dereverbHint")} checked={values.dereverb} onChange={set("dereverb")} /> : null}
        {specs.lead_backing ? (
          <Check label={t("cover.leadBacking")} hint={t("cover.leadBackingHint")} checked={values.lead_backing} onChange={set("lead_backing")} />
        ) : null}
        {specs.backing && values.lead_backing ? select("backing", "cv-backing", t("cover.backing"), "cover.backing") : null}
      </div>
    </details>
  );
}

