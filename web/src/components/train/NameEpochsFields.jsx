// The model's name and how many epochs to train, side by side. The epochs' range is the server's
// (`spec`, /api/health `options.train.epochs`) once it has answered.
import { useI18n } from "../../lib/i18n.jsx";

export default function NameEpochsFields({ name, onName, epochs, onEpochs, spec, disabled }) {
  const { t } = useI18n();
  return (
    <div className="row">
      <div className="field grow">
        <label htmlFor="train-name" className="field-label">
          {t("train.name")}
        </label>
        <input
          id="train-name"
          type="text"
          value={name}
          maxLength={64}
          required
          autoComplete="off"
          placeholder={t("train.namePlaceholder")}
          onChange={(e) => onName(e.target.value)}
          disabled={disabled}
        />
      </div>
      <div className="field narrow">
        <label htmlFor="train-epochs" className="field-label">
          {t("train.epochs")}
        </label>
        <input
          id="train-epochs"
          type="number"
          min={spec?.min ?? 1}
          max={spec?.max}
          value={epochs}
          onChange={(e) => onEpochs(e.target.value)}
          disabled={disabled}
        />
      </div>
    </div>
  );
}
