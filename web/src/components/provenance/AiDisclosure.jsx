// The cover page's disclosure: the voice is AI-made, and what the file carries (watermark, signed
// C2PA credentials, player tags; `cover.provenance` from the server), with the way to check a file.
import { Link } from "react-router-dom";
import { useI18n } from "../../lib/i18n.jsx";

export default function AiDisclosure({ provenance }) {
  const { t } = useI18n();
  const p = provenance || null;
  return (
    <aside className="ai-disclosure" data-testid="ai-disclosure" aria-labelledby="ai-disclosure-title">
      <h2 id="ai-disclosure-title" className="subhead">
        {t("disclosure.title")}
      </h2>
      <p>{t("disclosure.text")}</p>
      {p ? (
        <>
          <p>{t("disclosure.carries")}</p>
          <ul data-testid="disclosure-carries">
            {p.watermark ? <li>{t("disclosure.watermark")}</li> : <li>{t("disclosure.noWatermark")}</li>}
            {p.c2pa ? <li>{t("disclosure.c2pa")}</li> : <li>{t("disclosure.noC2pa")}</li>}
            {p.tags ? <li>{t("disclosure.tags")}</li> : null}
          </ul>
        </>
      ) : null}
      <p>
        <Link to="/check">{t("disclosure.check")}</Link>
      </p>
    </aside>
  );
}
