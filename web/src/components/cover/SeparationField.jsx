// Which separation model splits the song: auto (BS-RoFormer on a GPU, HTDemucs on a CPU) or one by name.
import { useI18n } from "../../lib/i18n.jsx";

export default function SeparationField({ value, onChange }) {
  const { t } = useI18n();
  return (
    <div className="field">
      <label htmlFor="mx-separation" className="field-label">
        {t("cover.separation")}
      </label>
      <select id="mx-separation" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="auto">{t("cover.separationAuto")}</option>
        <option value="bs_roformer">{t("cover.separationRoformer")}</option>
        <option value="htdemucs">{t("cover.separationDemucs")}</option>
      </select>
    </div>
  );
}
