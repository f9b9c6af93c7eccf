// Advanced training settings (folded): batch size, sample rate, pitch extraction, unvoiced frames, save
// interval, which save to export (the best by similarity, or the last).
// Ranges, choices and starting values are the server's (`specs`, from /api/health `options.train`);
// nothing shows until it has described them.
import { useI18n } from "../../lib/i18n.jsx";
import { choiceLabel } from "../../lib/serverOptions.js";
import ChoiceSelect from "../ChoiceSelect.jsx";
import TextField from "../TextField.jsx";

function NumberField({ spec, onChange, ...field }) {
  return <TextField type="number" min={spec.min} max={spec.max} onValue={onChange} {...field} />;
}

/** `values`: what the form shows (server defaults under the user's changes); `onChange(key, value)`. */
export default function TrainAdvanced({ specs, values, onChange, disabled }) {
  const { t } = useI18n();
  if (!specs) return null;
  const field = (key) => ({ spec: specs[key], value: values[key] ?? "", onChange: (v) => onChange(key, v), disabled });
  return (
    <details className="advanced">
      <summary>{t("train.advanced")}</summary>
      <div className="grid-fields">
        {specs.batch_size ? <NumberField id="train-batch" label={t("train.batchSize")} {...field("batch_size")} /> : null}
        {specs.sample_rate ? (
          <ChoiceSelect id="train-sr" label={t("train.sampleRate")} labelOf={(sr) => sr.replace("k", " kHz")} {...field("sample_rate")} />
        ) : null}
        {specs.f0_method ? (
          <ChoiceSelect id="train-f0" label={t("train.f0Method")} labelOf={(m) => choiceLabel(t, `f0.${m}`, m)} {...field("f0_method")} />
        ) : null}
        {specs.f0_unvoiced ? (
          <ChoiceSelect id="train-f0-unvoiced" label={t("train.f0Unvoiced")} labelOf={(m) => choiceLabel(t, `f0Unvoiced.${m}`, m)} {...field("f0_unvoiced")} />
        ) : null}
        {specs.save_every ? <NumberField id="train-save" label={t("train.saveEvery")} {...field("save_every")} /> : null}
        {specs.export ? (
          <ChoiceSelect id="train-export" label={t("train.export")} labelOf={(c) => choiceLabel(t, `export.${c}`, c)} {...field("export")} />
        ) : null}
      </div>
      <p className="field-hint">{t("train.advancedHint")}</p>
    </details>
  );
}
