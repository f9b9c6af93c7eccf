// Advanced conversion (folded): pitch extraction, index/filter/RMS/protect, de-reverb, lead/backing.
import { useI18n } from "../../lib/i18n.jsx";
import { F0_METHODS } from "../../lib/options.js";
import RangeField from "../RangeField.jsx";

/** `values` holds the conversion and vocal-handling options; `set(key)` returns that option's setter. */
export default function ConversionOptions({ values, set }) {
  const { t } = useI18n();
  return (
    <details className="advanced">
      <summary>{t("cover.advanced")}</summary>
      <div className="grid-fields">
        <div className="field">
          <label htmlFor="cv-f0" className="field-label">
            {t("cover.f0Method")}
          </label>
          <select id="cv-f0" value={values.f0_method} onChange={(e) => set("f0_method")(e.target.value)}>
            {F0_METHODS.map((m) => (
              <option key={m} value={m}>
                {t(`f0.${m}`)}
              </option>
            ))}
          </select>
        </div>
        <RangeField id="cv-index" label={t("cover.indexRate")} min={0} max={1} step={0.05} value={values.index_rate} onChange={set("index_rate")} hint={t("cover.indexRateHint")} />
        <RangeField id="cv-filter" label={t("cover.filterRadius")} min={0} max={7} step={1} value={values.filter_radius} onChange={set("filter_radius")} hint={t("cover.filterRadiusHint")} />
        <RangeField id="cv-rms" label={t("cover.rmsMixRate")} min={0} max={1} step={0.05} value={values.rms_mix_rate} onChange={set("rms_mix_rate")} hint={t("cover.rmsMixRateHint")} />
        <RangeField id="cv-protect" label={t("cover.protect")} min={0} max={0.5} step={0.01} value={values.protect} onChange={set("protect")} hint={t("cover.protectHint")} />
      </div>
      <div className="checks">
        <label className="check">
          <input type="checkbox" checked={values.dereverb} onChange={(e) => set("dereverb")(e.target.checked)} />
          <span>
            {t("cover.dereverb")}
            <small>{t("cover.dereverbHint")}</small>
          </span>
        </label>
        <label className="check">
          <input type="checkbox" checked={values.lead_backing} onChange={(e) => set("lead_backing")(e.target.checked)} />
          <span>
            {t("cover.leadBacking")}
            <small>{t("cover.leadBackingHint")}</small>
          </span>
        </label>
        {values.lead_backing ? (
          <div className="field">
            <label htmlFor="cv-backing" className="field-label">
              {t("cover.backing")}
            </label>
            <select id="cv-backing" value={values.backing} onChange={(e) => set("backing")(e.target.value)}>
              <option value="original">{t("cover.backing.original")}</option>
              <option value="converted">{t("cover.backing.converted")}</option>
              <option value="off">{t("cover.backing.off")}</option>
            </select>
          </div>
        ) : null}
      </div>
    </details>
  );
}
