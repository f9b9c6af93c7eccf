// What a page shows when the model or cover it is about could not be loaded: why, and the way back.
import { Link } from "react-router-dom";
import { useI18n } from "../lib/i18n.jsx";
import ErrorBox from "./ErrorBox.jsx";

export default function LoadErrorCard({ error }) {
  const { t } = useI18n();
  return (
    <section className="card">
      <ErrorBox error={error} />
      <Link to="/library" className="button button-ghost">
        {t("common.toLibrary")}
      </Link>
    </section>
  );
}
