import { Link } from "react-router-dom";
import { useI18n } from "../lib/i18n.jsx";
import { useTitle } from "../lib/useTitle.js";
import PageHead from "../components/PageHead.jsx";

export default function NotFoundPage() {
  const { t } = useI18n();
  useTitle(t("notFound.title"));
  return (
    <div className="page page-narrow">
      <PageHead title={t("notFound.title")} lead={t("notFound.lead")} />
      <Link to="/" className="button button-primary">
        {t("nav.home")}
      </Link>
    </div>
  );
}
