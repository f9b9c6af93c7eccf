// `/models/:name`: the "training complete" page. Model facts and download; make a cover.
import { useEffect, useState } from "react";
import { Link, useLocation, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { useI18n } from "../lib/i18n.jsx";
import { useTitle } from "../lib/useTitle.js";
import { api, errorCode, errorMessage, paths } from "../lib/api.js";
import { KEYS, session } from "../lib/storage.js";
import { acceptOne, SONG_LIMITS } from "../lib/files.js";
import { changedOptions, CONVERSION_DEFAULTS, F0_METHODS, MIX_DEFAULTS } from "../lib/options.js";
import { formatBytes, formatDate, formatSampleRate, noteName } from "../lib/format.js";
import { useJob } from "../lib/useJob.js";
import ErrorBox from "../components/ErrorBox.jsx";
import FileDrop from "../components/FileDrop.jsx";
import PitchControl, { clampPitch } from "../components/PitchControl.jsx";
import ProgressBar from "../components/ProgressBar.jsx";
import JobProgress from "../components/JobProgress.jsx";
import DownloadLink from "../components/DownloadLink.jsx";
import Facts, { entriesOf } from "../components/Facts.jsx";

/** Voice profile, quality and suggested pitch may sit on the entry or in its metadata. */
export function modelExtras(model) {
  const meta = (model && model.metadata) || {};
  const profile = model?.voice_profile ?? meta.voice_profile ?? null;
  const quality = model?.quality ?? meta.quality ?? profile?.quality ?? null;
  const suggested = model?.suggested_pitch ?? meta.suggested_pitch ?? profile?.suggested_pitch ?? null;
  return { profile, quality, suggested: typeof suggested === "number" ? suggested : null };
}

function RangeField({ id, label, min, max, step, value, onChange, hint, format = (v) => v }) {
  return (
    <div className="field">
      <div className="field-label-row">
        <label htmlFor={id} className="field-label">
          {label}
        </label>
        <output htmlFor={id}>{format(value)}</output>
      </div>
      <input id={id} type="range" min={min} max={max} step={step} value={value} onChange={(e) => onChange(Number(e.target.value))} />
      {hint ? <p className="field-hint">{hint}</p> : null}
    </div>
  );
}

function ModelFacts({ model }) {
  const { t, lang } = useI18n();
  const { profile, quality } = modelExtras(model);
  const items = [
    [t("model.version"), model.version ?? model.metadata?.version],
    [t("model.sampleRate"), formatSampleRate(model.sample_rate ?? model.metadata?.sample_rate)],
    [t("model.f0"), (model.f0 ?? model.metadata?.f0) ? t("common.yes") : t("common.no")],
    [t("model.index"), model.has_index ? t("common.yes") : t("common.no")],
    [t("model.source"), model.source ? t(`source.${model.source}`) : undefined],
    [t("model.created"), formatDate(model.created_at, lang)],
    [t("model.size"), formatBytes(model.size_bytes, lang)],
  ];
  const epochs = model.epochs ?? model.training?.epochs_done ?? model.metadata?.epochs;
  if (epochs) items.push([t("model.epochs"), epochs]);
  const profileItems = profileEntries(profile, t);
  const qualityItems = typeof quality === "object" ? entriesOf(quality, t, "quality") : quality != null ? [[t("model.quality"), quality]] : [];
  return (
    <>
      <Facts items={items} />
      {profileItems.length ? (
        <>
          <h3 className="subhead">{t("model.voiceProfile")}</h3>
          <Facts items={profileItems} />
        </>
      ) : null}
      {qualityItems.length ? (
        <>
          <h3 className="subhead">{t("model.quality")}</h3>
          <Facts items={qualityItems} />
        </>
      ) : null}
    </>
  );
}

/** {median_hz, p5_hz, p95_hz} as notes a singer reads ("A3 · 220 Hz"); other keys as they are. */
export function profileEntries(profile, t) {
  if (!profile || typeof profile !== "object") return [];
  const items = [];
  const rest = omit(profile, ["quality", "suggested_pitch", "median_hz", "p5_hz", "p95_hz"]);
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

export function CoverForm({ model, suggested, onStarted, initialPitch = 0 }) {
  const { t } = useI18n();
  const [song, setSong] = useState(null);
  const [pitch, setPitch] = useState(initialPitch);
  const [pitchAuto, setPitchAuto] = useState(false);
  const [extras, setExtras] = useState({ dereverb: false, lead_backing: false, backing: "original", key_mode: "vocals", separation_model: "auto" });
  const setX = (key) => (value) => setExtras((x) => ({ ...x, [key]: value }));
  const [conv, setConv] = useState(CONVERSION_DEFAULTS);
  const [mix, setMix] = useState(MIX_DEFAULTS);
  const [upload, setUpload] = useState(null);
  const [error, setError] = useState(null);
  const setC = (key) => (value) => setConv((c) => ({ ...c, [key]: value }));
  const setM = (key) => (value) => setMix((m) => ({ ...m, [key]: value }));

  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    if (!song) return setError({ message: t("cover.needSong") });
    const body = new FormData();
    body.append("song", song, song.name);
    body.append("model", model);
    body.append("pitch", String(pitch));
    if (pitchAuto) body.append("pitch_auto", "true");
    const options = { ...changedOptions(conv, CONVERSION_DEFAULTS), ...changedOptions(mix, MIX_DEFAULTS) };
    if (extras.dereverb) options.dereverb = "true";
    if (extras.key_mode !== "vocals") options.key_mode = extras.key_mode;
    if (extras.separation_model !== "auto") options.separation_model = extras.separation_model;
    if (extras.lead_backing) {
      options.lead_backing = "true";
      if (extras.backing !== "original") options.backing = extras.backing;
    }
    for (const [key, value] of Object.entries(options)) body.append(key, String(value));
    setUpload(0);
    try {
      const response = await api.post("/covers", body, {
        onUploadProgress: (ev) => ev.total && setUpload(ev.loaded / ev.total),
      });
      const started = { job_id: response.data.job_id, model, song_name: song.name };
      session.setJSON(KEYS.coverJob, started);
      onStarted(started);
    } catch (err) {
      setError({ message: errorMessage(err, t), code: errorCode(err) });
    } finally {
      setUpload(null);
    }
  };

  const busy = upload !== null;
  const db = (v) => `${v > 0 ? "+" : ""}${v} dB`;
  return (
    <form onSubmit={submit} noValidate aria-labelledby="cover-form-title">
      <h2 id="cover-form-title">{t("cover.title")}</h2>
      <FileDrop
        name="song"
        label={t("cover.song")}
        hint={t("cover.songHint")}
        accept=".wav,.mp3,.flac,audio/*"
        files={song ? [song] : []}
        disabled={busy}
        onAdd={(picked) => acceptOne(picked, SONG_LIMITS, t, setSong, setError)}
        onRemove={() => setSong(null)}
      />
      <PitchControl value={pitch} onChange={setPitch} suggested={suggested} disabled={busy || pitchAuto} />
      <label className="check">
        <input type="checkbox" checked={pitchAuto} onChange={(e) => setPitchAuto(e.target.checked)} disabled={busy} />
        <span>
          {t("cover.pitchAuto")}
          <small>{t("cover.pitchAutoHint")}</small>
        </span>
      </label>
      <details className="advanced">
        <summary>{t("cover.advanced")}</summary>
        <div className="grid-fields">
          <div className="field">
            <label htmlFor="cv-f0" className="field-label">
              {t("cover.f0Method")}
            </label>
            <select id="cv-f0" value={conv.f0_method} onChange={(e) => setC("f0_method")(e.target.value)}>
              {F0_METHODS.map((m) => (
                <option key={m} value={m}>
                  {t(`f0.${m}`)}
                </option>
              ))}
            </select>
          </div>
          <RangeField id="cv-index" label={t("cover.indexRate")} min={0} max={1} step={0.05} value={conv.index_rate} onChange={setC("index_rate")} hint={t("cover.indexRateHint")} />
          <RangeField id="cv-filter" label={t("cover.filterRadius")} min={0} max={7} step={1} value={conv.filter_radius} onChange={setC("filter_radius")} hint={t("cover.filterRadiusHint")} />
          <RangeField id="cv-rms" label={t("cover.rmsMixRate")} min={0} max={1} step={0.05} value={conv.rms_mix_rate} onChange={setC("rms_mix_rate")} hint={t("cover.rmsMixRateHint")} />
          <RangeField id="cv-protect" label={t("cover.protect")} min={0} max={0.5} step={0.01} value={conv.protect} onChange={setC("protect")} hint={t("cover.protectHint")} />
        </div>
        <div className="checks">
          <label className="check">
            <input type="checkbox" checked={extras.dereverb} onChange={(e) => setX("dereverb")(e.target.checked)} />
            <span>
              {t("cover.dereverb")}
              <small>{t("cover.dereverbHint")}</small>
            </span>
          </label>
          <label className="check">
            <input type="checkbox" checked={extras.lead_backing} onChange={(e) => setX("lead_backing")(e.target.checked)} />
            <span>
              {t("cover.leadBacking")}
              <small>{t("cover.leadBackingHint")}</small>
            </span>
          </label>
          {extras.lead_backing ? (
            <div className="field">
              <label htmlFor="cv-backing" className="field-label">
                {t("cover.backing")}
              </label>
              <select id="cv-backing" value={extras.backing} onChange={(e) => setX("backing")(e.target.value)}>
                <option value="original">{t("cover.backing.original")}</option>
                <option value="converted">{t("cover.backing.converted")}</option>
                <option value="off">{t("cover.backing.off")}</option>
              </select>
            </div>
          ) : null}
        </div>
      </details>
      <details className="advanced">
        <summary>{t("cover.mix")}</summary>
        <div className="grid-fields">
          <RangeField id="mx-vocal" label={t("cover.vocalGain")} min={-24} max={12} step={1} value={mix.vocal_gain} onChange={setM("vocal_gain")} format={db} />
          <RangeField id="mx-inst" label={t("cover.instrumentalGain")} min={-24} max={12} step={1} value={mix.instrumental_gain} onChange={setM("instrumental_gain")} format={db} />
          <RangeField id="mx-reverb" label={t("cover.reverb")} min={0} max={1} step={0.05} value={mix.reverb} onChange={setM("reverb")} />
          <div className="field">
            <label htmlFor="mx-format" className="field-label">
              {t("cover.format")}
            </label>
            <select id="mx-format" value={mix.format} onChange={(e) => setM("format")(e.target.value)}>
              <option value="wav">WAV</option>
              <option value="mp3">MP3</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="mx-separation" className="field-label">
              {t("cover.separation")}
            </label>
            <select id="mx-separation" value={extras.separation_model} onChange={(e) => setX("separation_model")(e.target.value)}>
              <option value="auto">{t("cover.separationAuto")}</option>
              <option value="bs_roformer">{t("cover.separationRoformer")}</option>
              <option value="htdemucs">{t("cover.separationDemucs")}</option>
            </select>
          </div>
        </div>
        <label className="check">
          <input
            type="checkbox"
            checked={extras.key_mode === "song"}
            onChange={(e) => setX("key_mode")(e.target.checked ? "song" : "vocals")}
          />
          <span>
            {t("cover.keyModeSong")}
            <small>{t("cover.keyModeSongHint")}</small>
          </span>
        </label>
      </details>
      {busy ? <ProgressBar value={upload} label={t("common.uploadProgress")} /> : null}
      <ErrorBox error={error} />
      <button type="submit" className="button button-primary button-wide" disabled={busy}>
        {busy ? t("common.uploading") : t("cover.submit")}
      </button>
    </form>
  );
}

function CoverRun({ active, onReset }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const { job, loadError, connected } = useJob(active.job_id, t);
  const [stopping, setStopping] = useState(false);
  const [stopError, setStopError] = useState(null);
  const status = job?.status;

  useEffect(() => {
    if (status === "succeeded") {
      const result = job.result || {};
      const id = result.cover_id ?? result.id;
      session.setJSON(KEYS.cover, { id, song_name: active.song_name, audio_url: result.audio_url, model: active.model });
      session.set(KEYS.coverJob, null);
      if (id !== undefined) navigate(paths.cover(id));
    } else if (status === "failed" || status === "cancelled") {
      session.set(KEYS.coverJob, null);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [status]);

  useEffect(() => {
    if (loadError?.status === 404) session.set(KEYS.coverJob, null);
  }, [loadError]);

  const stop = async () => {
    setStopping(true);
    setStopError(null);
    try {
      await api.post(`/jobs/${encodeURIComponent(active.job_id)}/cancel`);
    } catch (err) {
      setStopError({ message: errorMessage(err, t), code: errorCode(err) });
      setStopping(false);
    }
  };
  const final = status === "failed" || status === "cancelled" || loadError?.status === 404;
  return (
    <div>
      <h2>{t("cover.running")}</h2>
      {active.song_name ? <p className="muted">{active.song_name}</p> : null}
      {loadError && !job ? (
        <ErrorBox error={loadError} />
      ) : (
        <JobProgress job={job} title={t("cover.progressTitle")} onStop={stop} stopping={stopping} connected={connected} />
      )}
      <ErrorBox error={stopError} />
      {final ? (
        <button type="button" className="button button-ghost" onClick={onReset}>
          {t("cover.again")}
        </button>
      ) : null}
    </div>
  );
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
    const saved = session.getJSON(KEYS.coverJob);
    return saved && saved.model === name ? saved : null;
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
        <section className="card">
          <ErrorBox error={error} />
          <Link to="/library" className="button button-ghost">
            {t("common.toLibrary")}
          </Link>
        </section>
      ) : (
        <div className="grid-main">
          <section className="card card-main">
            {active ? (
              <CoverRun
                key={active.job_id}
                active={active}
                onReset={() => {
                  session.set(KEYS.coverJob, null);
                  setActive(null);
                }}
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
          </aside>
        </div>
      )}
    </div>
  );
}
