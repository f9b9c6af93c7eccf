import { Link } from "react-router-dom";
import { useI18n } from "../lib/i18n.jsx";
import { useTitle } from "../lib/useTitle.js";

export default function NotFoundPage() {
  const { t } = useI18n();
  useTitle(t("notFound.title"));
  return (
    <div className="page page-narrow">
      <header className="page-head">
        <h1>{t("notFound.title")}</h1>
        <p className="lead">{t("notFound.lead")}</p>
      </header>
      <Link to="/" className="button button-primary">
        {t("nav.home")}
      </Link>
    </div>
  );
}
