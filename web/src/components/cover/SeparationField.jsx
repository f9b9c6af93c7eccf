// Which separation model splits the song: auto (BS-RoFormer on a GPU, HTDemucs on a CPU) or one by
// name; the choices are the server's.
import { useI18n } from "../../lib/i18n.jsx";
import { choiceLabel } from "../../lib/serverOptions.js";
import ChoiceSelect from "../ChoiceSelect.jsx";

const LABELS = { auto: "cover.separationAuto", bs_roformer: "cover.separationRoformer", htdemucs: "cover.separationDemucs" };

export default function SeparationField({ spec, value, onChange }) {
  const { t } = useI18n();
  return (
    <ChoiceSelect
      id="mx-separation"
      label={t("cover.separation")}
      spec={spec}
      value={value}
      onChange={onChange}
      labelOf={(m) => (LABELS[m] ? t(LABELS[m]) : m)}
    />
  );
}
