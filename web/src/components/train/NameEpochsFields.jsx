// The model's name and how many epochs to train, side by side. The epochs' range is the server's
// (`spec`, /api/health `options.train.epochs`) once it has answered.
import { useI18n } from "../../lib/i18n.jsx";
import TextField from "../TextField.jsx";

export default function NameEpochsFields({ name, onName, epochs, onEpochs, spec, disabled }) {
  const { t } = useI18n();
  return (
    <div className="row">
      <TextField
        id="train-name"
        className="grow"
        label={t("train.name")}
        type="text"
        value={name}
        maxLength={64}
        required
        autoComplete="off"
        placeholder={t("train.namePlaceholder")}
        onValue={onName}
        disabled={disabled}
      />
      <TextField
        id="train-epochs"
        className="narrow"
        label={t("train.epochs")}
        type="number"
        min={spec?.min ?? 1}
        max={spec?.max}
        value={epochs}
        onValue={onEpochs}
        disabled={disabled}
      />
    </div>
  );
}
