// Advanced training settings (folded): batch size, sample rate, pitch extraction, save interval.
import { useI18n } from "../../lib/i18n.jsx";
import { F0_METHODS, SAMPLE_RATES } from "../../lib/options.js";

/** `values` holds batch_size, sample_rate, f0_method, save_every; `onChange(key, value)`. */
export default function TrainAdvanced({ values, onChange, disabled }) {
  const { t } = useI18n();
  return (
    <details className="advanced">
      <summary>{t("train.advanced")}</summary>
      <div className="grid-fields">
        <div className="field">
          <label htmlFor="train-batch" className="field-label">
            {t("train.batchSize")}
          </label>
          <input
            id="train-batch"
            type="number"
            min={1}
            max={64}
            value={values.batch_size}
            onChange={(e) => onChange("batch_size", e.target.value)}
            disabled={disabled}
          />
        </div>
        <div className="field">
          <label htmlFor="train-sr" className="field-label">
            {t("train.sampleRate")}
          </label>
          <select id="train-sr" value={values.sample_rate} onChange={(e) => onChange("sample_rate", e.target.value)} disabled={disabled}>
            {SAMPLE_RATES.map((sr) => (
              <option key={sr} value={sr}>
                {sr.replace("k", " kHz")}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="train-f0" className="field-label">
            {t("train.f0Method")}
          </label>
          <select id="train-f0" value={values.f0_method} onChange={(e) => onChange("f0_method", e.target.value)} disabled={disabled}>
            {F0_METHODS.map((m) => (
              <option key={m} value={m}>
                {t(`f0.${m}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="train-save" className="field-label">
            {t("train.saveEvery")}
          </label>
          <input
            id="train-save"
            type="number"
            min={1}
            max={1000}
            value={values.save_every}
            onChange={(e) => onChange("save_every", e.target.value)}
            disabled={disabled}
          />
        </div>
      </div>
      <p className="field-hint">{t("train.advancedHint")}</p>
    </details>
  );
}
