// `/covers/:id`: the "cover complete" page. Play (streamed from the server), download, go back.
import { useEffect, useRef, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { useI18n } from "../lib/i18n.jsx";
import { useTitle } from "../lib/useTitle.js";
import { api, errorCode, errorMessage, paths } from "../lib/api.js";
import { KEYS, session } from "../lib/storage.js";
import { coverPitchText, formatDate, formatDuration, formatPitch } from "../lib/format.js";
import ErrorBox from "../components/ErrorBox.jsx";
import DownloadLink from "../components/DownloadLink.jsx";
import Facts from "../components/Facts.jsx";
import QualityFacts from "../components/QualityFacts.jsx";
import AiDisclosure from "../components/provenance/AiDisclosure.jsx";
import LoadErrorCard from "../components/LoadErrorCard.jsx";

export default function CoverPage() {
  const { id } = useParams();
  const { t, lang } = useI18n();
  const [cover, setCover] = useState(null);
  useTitle(cover?.song_name || t("coverPage.eyebrow"));
  const [error, setError] = useState(null);
  const [playError, setPlayError] = useState(false);
  const [playerDuration, setPlayerDuration] = useState(null);
  const [side, setSide] = useState("cover"); // A/B: what the player plays, the cover or the original
  const player = useRef(null);
  const resume = useRef(null); // {time, playing} carried across an A/B switch

  useEffect(() => {
    let alive = true;
    setCover(null);
    setError(null);
    api
      .get(`/covers/${encodeURIComponent(id)}`)
      .then((r) => {
        if (!alive) return;
        setCover(r.data);
        session.setJSON(KEYS.cover, { id, song_name: r.data.song_name, audio_url: r.data.audio_url, model: r.data.model });
      })
      .catch((err) => alive && setError({ message: errorMessage(err, t), code: errorCode(err) }));
    return () => {
      alive = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id]);

  const suggested = typeof cover?.suggested_pitch === "number" ? cover.suggested_pitch : null;
  const audioUrl = cover?.audio_url || `/api/covers/${encodeURIComponent(id)}/audio`;
  const originalUrl = cover?.original_url || null;
  const playing = side === "original" && originalUrl ? originalUrl : audioUrl;
  const switchTo = (next) => {
    if (next === side) return;
    const el = player.current;
    resume.current = el ? { time: el.currentTime, playing: !el.paused } : null;
    setSide(next);
  };
  const onMetadata = (e) => {
    const el = e.currentTarget;
    if (side === "cover" && Number.isFinite(el.duration)) setPlayerDuration(el.duration);
    const at = resume.current;
    resume.current = null;
    if (at) {
      el.currentTime = Math.min(at.time, Number.isFinite(el.duration) ? el.duration : at.time);
      if (at.playing) el.play().catch(() => {});
    }
  };
  const downloadUrl = cover?.download_url || `/api/covers/${encodeURIComponent(id)}/download`;
  return (
    <div className="page page-narrow">
      <header className="page-head">
        {error && !cover ? null : <p className="eyebrow">{t("coverPage.eyebrow")}</p>}
        <h1 data-testid="cover-title">
          {cover ? cover.song_name || t("coverPage.untitled") : error ? t("coverPage.notFound") : t("common.loading")}
        </h1>
        {cover?.model ? (
          <p className="lead">
            {t("coverPage.byModel")} <Link to={paths.model(cover.model)}>{cover.model}</Link>
          </p>
        ) : null}
      </header>
      {error ? (
        <LoadErrorCard error={error} />
      ) : (
        <section className="card player-card">
          <div className="player">
            <div className="player-art" aria-hidden="true">
              <span className="wave" />
              <span className="wave" />
              <span className="wave" />
              <span className="wave" />
              <span className="wave" />
            </div>
            {cover ? (
              <audio
                ref={player}
                controls
                preload="metadata"
                src={playing}
                data-testid="cover-audio"
                data-side={side}
                aria-label={t("coverPage.player")}
                onError={() => setPlayError(true)}
                onLoadedMetadata={onMetadata}
              />
            ) : null}
          </div>
          {cover && originalUrl ? (
            <div className="ab-toggle" role="group" aria-label={t("coverPage.ab")} data-testid="ab-toggle">
              {["cover", "original"].map((which) => (
                <button
                  key={which}
                  type="button"
                  className={`button ${side === which ? "button-primary" : "button-ghost"}`}
                  aria-pressed={side === which}
                  data-testid={`ab-${which}`}
                  onClick={() => switchTo(which)}
                >
                  {t(which === "cover" ? "coverPage.abCover" : "coverPage.abOriginal")}
                </button>
              ))}
              <p className="field-hint">{t("coverPage.abHint")}</p>
            </div>
          ) : null}
          {playError ? <ErrorBox error={t("coverPage.playError")} /> : null}
          {cover && suggested !== null && suggested !== cover.pitch ? (
            <p className="hint-box" data-testid="suggestion">
              {t("coverPage.suggestion", { pitch: formatPitch(suggested) })}{" "}
              <Link to={`${paths.model(cover.model)}?pitch=${suggested}`}>{t("coverPage.retry")}</Link>
            </p>
          ) : null}
          {cover ? (
            <Facts
              className="facts facts-inline"
              items={[
                [
                  t("coverPage.pitch"),
                  coverPitchText(cover, t),
                  "cover-pitch",
                ],
                [t("coverPage.duration"), formatDuration(cover.duration_s ?? playerDuration), "cover-duration"],
                [t("coverPage.created"), formatDate(cover.created_at, lang)],
              ]}
            />
          ) : null}
          {cover?.quality ? (
            <div className="cover-quality">
              <h3 className="subhead">{t("coverPage.quality")}</h3>
              <QualityFacts metrics={cover.quality} testid="cover-quality" />
            </div>
          ) : null}
          {cover ? <AiDisclosure provenance={cover.provenance} /> : null}
          <div className="actions">
            <DownloadLink href={downloadUrl} filename={cover?.filename || ""} className="button button-primary">
              {t("coverPage.download")}
            </DownloadLink>
            {cover?.model ? (
              <Link className="button button-ghost" to={paths.model(cover.model)}>
                {t("coverPage.back")}
              </Link>
            ) : null}
            <Link className="button button-ghost" to="/library">
              {t("common.toLibrary")}
            </Link>
          </div>
          {cover ? <p className="field-hint">{t("coverPage.downloadNote")}</p> : null}
        </section>
      )}
    </div>
  );
}
