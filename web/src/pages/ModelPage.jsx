// `/models/:name`: the "training complete" page. Model facts and download; make a cover.
// The cover form and its progress card live in components/cover/.
import { useEffect, useState } from "react";
import { useLocation, useParams, useSearchParams } from "react-router-dom";
import { useI18n } from "../lib/i18n.jsx";
import { useTitle } from "../lib/useTitle.js";
import { api, errorCode, errorMessage, paths } from "../lib/api.js";
import { KEYS, session } from "../lib/storage.js";
import { formatBytes, formatDate, formatSampleRate, noteName } from "../lib/format.js";
import { clampPitch } from "../components/PitchControl.jsx";
import DownloadLink from "../components/DownloadLink.jsx";
import CoverForm from "../components/cover/CoverForm.jsx";
import CoverProgressCard from "../components/cover/CoverProgressCard.jsx";
import CoverBatchCard from "../components/cover/CoverBatchCard.jsx";
import Facts, { entriesOf } from "../components/Facts.jsx";
import QualityFacts from "../components/QualityFacts.jsx";
import SavesPanel from "../components/train/SavesPanel.jsx";
import LoadErrorCard from "../components/LoadErrorCard.jsx";

/** The model entry's voice profile, quality report and suggested pitch (each may be absent). */
export function modelExtras(model) {
  const suggested = model?.suggested_pitch;
  return {
    profile: model?.voice_profile ?? null,
    quality: model?.quality ?? null,
    suggested: typeof suggested === "number" ? suggested : null,
  };
}

function consentText(consent, t, lang) {
  const status = consent?.status || "none";
  if (status === "recorded") return t("consent.status.recorded", { date: formatDate(consent.recorded_at, lang) });
  if (status === "imported") return t("consent.status.imported");
  return t("consent.status.none");
}

function ModelFacts({ model }) {
  const { t, lang } = useI18n();
  const { profile, quality } = modelExtras(model);
  const items = [
    [t("model.version"), model.version],
    [t("model.sampleRate"), formatSampleRate(model.sample_rate)],
    [t("model.f0"), model.f0 ? t("common.yes") : t("common.no")],
    [t("model.f0Unvoiced"), model.f0 && model.f0_unvoiced ? t(`f0Unvoiced.${model.f0_unvoiced}`) : undefined],
    [t("model.index"), model.has_index ? t("common.yes") : t("common.no")],
    [t("model.source"), model.source ? t(`source.${model.source}`) : undefined],
    [t("model.consent"), consentText(model.consent, t, lang), "model-consent"],
    [t("model.embedder"), model.embedder],
    [t("model.mergedFrom"), model.merged_from ? `${model.merged_from.a} × ${model.merged_from.weight} + ${model.merged_from.b}` : undefined],
    [t("model.created"), formatDate(model.created_at, lang)],
    [t("model.size"), formatBytes(model.size_bytes, lang)],
  ];
  const epochs = model.epochs ?? model.training?.epochs_done;
  if (epochs) items.push([t("model.epochs"), epochs]);
  const profileItems = profileEntries(profile, t);
  const qualityItems = quality != null && typeof quality !== "object" ? [[t("model.quality"), quality]] : [];
  return (
    <>
      <Facts items={items} />
      {profileItems.length ? (
        <>
          <h3 className="subhead">{t("model.voiceProfile")}</h3>
          <Facts items={profileItems} />
        </>
      ) : null}
      {qualityItems.length || (quality && typeof quality === "object") ? (
        <>
          <h3 className="subhead">{t("model.quality")}</h3>
          {qualityItems.length ? <Facts items={qualityItems} /> : <QualityFacts metrics={quality} testid="model-quality" />}
        </>
      ) : null}
    </>
  );
}

/** {median_hz, p5_hz, p95_hz} as notes a singer reads ("A3 · 220 Hz"); other keys as they are. */
export function profileEntries(profile, t) {
  if (!profile || typeof profile !== "object") return [];
  const items = [];
  const rest = omit(profile, ["median_hz", "p5_hz", "p95_hz"]);
  if (typeof profile.median_hz === "number") {
    items.push([t("profile.center"), `${noteName(profile.median_hz)} · ${Math.round(profile.median_hz)} Hz`, "profile-center"]);
  }
  if (typeof profile.p5_hz === "number" && typeof profile.p95_hz === "number") {
    items.push([
      t("profile.range"),
      `${noteName(profile.p5_hz)} – ${noteName(profile.p95_hz)} · ${Math.round(profile.p5_hz)}–${Math.round(profile.p95_hz)} Hz`,
      "profile-range",
    ]);
  }
  return [...items, ...entriesOf(rest, t, "profile")];
}

function omit(obj, keys) {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !keys.includes(k)));
}

export default function ModelPage() {
  const { name } = useParams();
  const [search] = useSearchParams();
  const location = useLocation();
  const notice = location.state?.notice;
  const { t } = useI18n();
  useTitle(name);
  const [model, setModel] = useState(null);
  const [error, setError] = useState(null);
  const [active, setActive] = useState(() => {
    const saved = session.getJSON(KEYS.coverJob); // one job, or a batch of several songs
    const first = Array.isArray(saved) ? saved[0] : saved;
    return first && first.model === name ? saved : null;
  });

  useEffect(() => {
    let alive = true;
    setModel(null);
    setError(null);
    api
      .get(`/models/${encodeURIComponent(name)}`)
      .then((r) => {
        if (!alive) return;
        setModel(r.data);
        session.set(KEYS.modelName, r.data.name || name);
      })
      .catch((err) => alive && setError({ message: errorMessage(err, t), code: errorCode(err) }));
    return () => {
      alive = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [name]);

  const { suggested } = modelExtras(model);
  const reset = () => {
    session.set(KEYS.coverJob, null);
    setActive(null);
  };
  return (
    <div className="page">
      <header className="page-head">
        <p className="eyebrow">{t("model.eyebrow")}</p>
        <h1 data-testid="model-name">{name}</h1>
        {notice && !error ? (
          <p className="success" role="status" data-testid="model-notice">
            {t(notice === "trained" ? "model.trainedNotice" : "model.uploadedNotice")}
          </p>
        ) : null}
      </header>
      {error ? (
        <LoadErrorCard error={error} />
      ) : (
        <div className="grid-main">
          <section className="card card-main">
            {Array.isArray(active) ? (
              <CoverBatchCard
                items={active}
                onReset={reset}
              />
            ) : active ? (
              <CoverProgressCard
                key={active.job_id}
                active={active}
                onReset={reset}
              />
            ) : (
              <CoverForm
                model={name}
                suggested={suggested ?? (search.has("pitch") ? clampPitch(search.get("pitch")) : null)}
                initialPitch={search.has("pitch") ? clampPitch(search.get("pitch")) : 0}
                onStarted={setActive}
              />
            )}
          </section>
          <aside className="card card-side">
            <h2>{t("model.facts")}</h2>
            {model ? <ModelFacts model={model} /> : <p className="muted">{t("common.loading")}</p>}
            <DownloadLink href={paths.modelDownload(name)} filename={`${name}.zip`} className="button button-wide">
              {t("model.download")}
            </DownloadLink>
            {model?.source === "trained" ? (
              <SavesPanel
                url={`/models/${encodeURIComponent(name)}/saves`}
                refreshKey={model?.training?.exported_epoch ?? ""}
                exportModel={name}
                onExported={(m) => setModel(m)}
              />
            ) : null}
          </aside>
        </div>
      )}
    </div>
  );
}
