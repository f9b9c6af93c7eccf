// A file's content credentials (C2PA, summarised by the server): who made it, how, when, with
// which model and consent, and whether the signature still matches the file.
import { useI18n } from "../../lib/i18n.jsx";
import { formatDate } from "../../lib/format.js";
import Facts from "../Facts.jsx";

const AI_SOURCE = "trainedAlgorithmicMedia";

export default function CredentialFacts({ credentials: c }) {
  const { t, lang } = useI18n();
  const valid = c.validation_state === "Valid" || c.validation_state === "Trusted";
  const source = c.digital_source_type || "";
  return (
    <div data-testid="check-credentials">
      <p className={valid ? "cred-valid" : "cred-invalid"} data-testid="cred-state">
        {valid ? t("cred.valid", { signer: c.signed_by || "?" }) : t("cred.invalid")}
      </p>
      <Facts
        items={[
          [t("cred.generator"), c.generator],
          [t("cred.source"), source.endsWith(AI_SOURCE) ? t("cred.sourceAi") : source || undefined],
          [t("cred.kind"), c.kind ? t(`cred.kind.${c.kind}`) : undefined],
          [t("cred.created"), c.created_at ? formatDate(c.created_at, lang) : undefined],
          [t("cred.consent"), c.consent ? t(`cred.consent.${c.consent}`) : undefined],
          [t("cred.watermark"), c.marked === undefined || c.marked === null ? undefined : c.marked ? t("cred.yes") : t("cred.no")],
          [t("cred.model"), c.model_sha256 ? <code key="m">{c.model_sha256.slice(0, 16)}…</code> : undefined],
        ]}
      />
    </div>
  );
}
