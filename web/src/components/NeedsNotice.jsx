// Why Train/Cover is disabled: the weights this job (with these options) needs and lacks.
import { useI18n } from "../lib/i18n.jsx";
import { formatBytes } from "../lib/format.js";

export default function NeedsNotice({ id, needs }) {
  const { t, lang } = useI18n();
  const missing = needs?.missing || [];
  if (!missing.length) return null;
  return (
    <p className="notice notice-warn" id={id} role="status" data-testid="needs-reason">
      {t("needs.missing", {
        names: missing.map((m) => m.name).join(", "),
        size: formatBytes(needs.missing_bytes, lang),
      })}
    </p>
  );
}
