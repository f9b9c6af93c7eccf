// `/covers/:id`: the "cover complete" page. Play (streamed from the server), download, go back.
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { useI18n } from "../lib/i18n.jsx";
import { useTitle } from "../lib/useTitle.js";
import { api, errorCode, errorMessage, paths, withToken } from "../lib/api.js";
import { KEYS, session } from "../lib/storage.js";
import { formatDate, formatDuration, formatPitch } from "../lib/format.js";
import ErrorBox from "../components/ErrorBox.jsx";
import DownloadLink from "../components/DownloadLink.jsx";
import Facts from "../components/Facts.jsx";

export default function CoverPage() {
  const { id } = useParams();
  const { t, lang } = useI18n();
  const [cover, setCover] = useState(null);
  useTitle(cover?.song_name || t("coverPage.eyebrow"));
  const [error, setError] = useState(null);
  const [playError, setPlayError] = useState(false);
  const [playerDuration, setPlayerDuration] = useState(null);

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

  const auto = Boolean(cover?.options?.pitch_auto);
  const suggested = typeof cover?.suggested_pitch === "number" ? cover.suggested_pitch : null;
  const pitchShown = auto && suggested !== null ? suggested : cover?.pitch;
  const audioUrl = cover?.audio_url || `/api/covers/${encodeURIComponent(id)}/audio`;
  const downloadUrl = cover?.download_url || `/api/covers/${encodeURIComponent(id)}/download`;
  return (
    <div className="page page-narrow">
      <header className="page-head">
        <p className="eyebrow">{t("coverPage.eyebrow")}</p>
        <h1 data-testid="cover-title">{cover ? cover.song_name || t("coverPage.untitled") : t("common.loading")}</h1>
        {cover?.model ? (
          <p className="lead">
            {t("coverPage.byModel")} <Link to={paths.model(cover.model)}>{cover.model}</Link>
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
                controls
                preload="metadata"
                src={withToken(audioUrl)}
                data-testid="cover-audio"
                aria-label={t("coverPage.player")}
                onError={() => setPlayError(true)}
                onLoadedMetadata={(e) => Number.isFinite(e.currentTarget.duration) && setPlayerDuration(e.currentTarget.duration)}
              />
            ) : null}
          </div>
          {playError ? <ErrorBox error={t("coverPage.playError")} /> : null}
          {cover && suggested !== null && suggested !== pitchShown ? (
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
                  `${formatPitch(pitchShown)} ${t("pitch.unit")}${auto ? ` (${t("coverPage.auto")})` : ""}`,
                  "cover-pitch",
                ],
                [t("coverPage.duration"), formatDuration(cover.duration_s ?? playerDuration), "cover-duration"],
                [t("coverPage.created"), formatDate(cover.created_at, lang)],
              ]}
            />
          ) : null}
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
        </section>
      )}
    </div>
  );
}
