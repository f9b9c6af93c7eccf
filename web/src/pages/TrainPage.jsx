// `/` and `/train`: train a voice model from recordings, or upload a ready-made model zip.
// The parts live in components/train/.
import { useState } from "react";
import { useI18n } from "../lib/i18n.jsx";
import { useTitle } from "../lib/useTitle.js";
import { KEYS, session } from "../lib/storage.js";
import TrainForm from "../components/train/TrainForm.jsx";
import TrainingProgressCard from "../components/train/TrainingProgressCard.jsx";
import ModelZipForm from "../components/train/ModelZipForm.jsx";
import PageHead from "../components/PageHead.jsx";

export default function TrainPage() {
  const { t } = useI18n();
  useTitle(t("nav.train"));
  const [active, setActive] = useState(() => session.getJSON(KEYS.trainJob));
  const reset = () => {
    session.set(KEYS.trainJob, null);
    setActive(null);
  };
  return (
    <div className="page">
      <PageHead title={t("train.title")} lead={t("train.lead")} />
      <div className="grid-main">
        <section className="card card-main">
          {active && active.job_id ? (
            <TrainingProgressCard
              key={active.job_id}
              active={active}
              onReset={reset}
            />
          ) : (
            <TrainForm onStarted={setActive} />
          )}
        </section>
        <aside className="card card-side">
          <ModelZipForm />
        </aside>
      </div>
    </div>
  );
}
