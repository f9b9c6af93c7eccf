// The part of a cover that is ready while the rest is made: fetched piece by piece from
// GET /api/jobs/{id}/audio (Range) as `metrics.ready_frames` grows, played gaplessly through
// Web Audio (lib/progressivePlayer.js), with a seek bar over the ready part. It is a preview:
// the finished cover replaces it when the job succeeds, and a stopped cover keeps none of it.
import { useEffect, useRef, useState } from "react";
import { api } from "../../lib/api.js";
import { formatDuration } from "../../lib/format.js";
import { useI18n } from "../../lib/i18n.jsx";
import { ProgressivePlayer, byteRange, pcmToChannels } from "../../lib/progressivePlayer.js";

function audioContext(rate) {
  const Ctx = globalThis.AudioContext || globalThis.webkitAudioContext;
  if (!Ctx) return null;
  try {
    return new Ctx({ sampleRate: rate }); // the preview's own rate: no resampling between pieces
  } catch {
    return new Ctx();
  }
}

/** Fetch frames [from, to) of the preview; null when the server no longer serves the preview. */
export async function fetchPiece(jobId, from, to) {
  const response = await api.get(`/jobs/${encodeURIComponent(jobId)}/audio`, {
    responseType: "arraybuffer",
    headers: { Range: byteRange(from, to) },
  });
  // Once the cover is finished this URL serves the finished file instead: not PCM pieces.
  if (response.status !== 206 || !response.headers["x-persona-preview"]) return null;
  return pcmToChannels(response.data);
}

export default function CoverPreview({ jobId, metrics }) {
  const { t } = useI18n();
  const ready = Number(metrics?.ready_frames) || 0;
  const rate = Number(metrics?.ready_rate) || 0;
  const songS = Number(metrics?.song_s) || 0;
  const player = useRef(null);
  const fetched = useRef(0);
  const busy = useRef(false);
  const [view, setView] = useState({ loaded: 0, position: 0, playing: false, waiting: false });
  const [failed, setFailed] = useState(false);
  const [unsupported, setUnsupported] = useState(false);

  const refresh = () => {
    const p = player.current;
    if (p) setView({ loaded: p.readySeconds, position: p.position, playing: p.playing, waiting: p.waiting });
  };

  useEffect(() => {
    if (!rate || ready <= fetched.current || busy.current || failed) return undefined;
    if (!player.current) {
      const ctx = audioContext(rate);
      if (!ctx) {
        setUnsupported(true);
        return undefined;
      }
      player.current = new ProgressivePlayer(ctx, rate);
      player.current.onChange(refresh);
    }
    let alive = true;
    busy.current = true;
    fetchPiece(jobId, fetched.current, ready)
      .then((channels) => {
        if (!alive || !channels || !player.current) return;
        player.current.append(channels);
        fetched.current += channels[0].length;
      })
      .catch(() => alive && setFailed(true))
      .finally(() => {
        busy.current = false;
        if (alive) refresh();
      });
    return () => {
      alive = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [jobId, ready, rate, failed, view.loaded]);

  useEffect(() => {
    if (!view.playing) return undefined;
    const timer = setInterval(refresh, 250);
    return () => clearInterval(timer);
  }, [view.playing]);

  useEffect(
    () => () => {
      player.current?.close();
      player.current?.ctx.close?.();
    },
    [],
  );

  if (!ready && !view.loaded) return null;
  const toggle = async () => {
    const p = player.current;
    if (!p) return;
    await p.ctx.resume?.();
    if (p.playing) p.pause();
    else p.play(p.position >= p.readySeconds - 0.05 ? 0 : p.position);
  };
  const total = songS || view.loaded;
  return (
    <section className="cover-preview" aria-label={t("cover.preview")} data-testid="cover-preview">
      <h3>{t("cover.preview")}</h3>
      <p className="muted">{t("cover.previewNote")}</p>
      {unsupported ? <p role="alert">{t("cover.previewUnsupported")}</p> : null}
      {failed ? <p role="alert">{t("cover.previewFailed")}</p> : null}
      <div className="cover-preview-controls">
        <button type="button" className="button" onClick={toggle} disabled={!view.loaded} data-testid="cover-preview-play">
          {view.playing ? t("cover.previewPause") : t("cover.previewPlay")}
        </button>
        <div className="cover-preview-track">
          <div
            className="cover-preview-ready"
            style={{ width: `${total ? Math.min(100, (100 * view.loaded) / total) : 0}%` }}
            data-testid="cover-preview-ready"
          />
          <input
            type="range"
            min={0}
            max={total || 0}
            step={0.1}
            value={Math.min(view.position, total)}
            aria-label={t("cover.previewSeek")}
            onChange={(e) => player.current?.seek(Math.min(Number(e.target.value), view.loaded))}
          />
        </div>
      </div>
      <p data-testid="cover-preview-status">
        {t("cover.previewReady", {
          position: formatDuration(view.position),
          ready: formatDuration(view.loaded),
          total: formatDuration(total),
        })}
        {view.waiting ? ` ${t("cover.previewWaiting")}` : ""}
      </p>
    </section>
  );
}
