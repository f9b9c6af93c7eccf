// Make covers: one or several songs (a job each), the pitch, and the folded conversion and mix options. The options, their
// ranges and defaults are the server's (/api/health `options.cover`); only the options the user
// changed are sent, and the server applies its own defaults to the rest.
import { useState } from "react";
import { useI18n } from "../../lib/i18n.jsx";
import { KEYS, session } from "../../lib/storage.js";
import { changedOptions, defaultsOf, useServerOptions, withDefaults } from "../../lib/serverOptions.js";
import { useUpload } from "../../lib/useUpload.js";
import { useJobNeeds } from "../../lib/assets.js";
import NeedsNotice from "../NeedsNotice.jsx";
import ErrorBox from "../ErrorBox.jsx";
import ProgressBar from "../ProgressBar.jsx";
import SongPicker from "./SongPicker.jsx";
import CoverPitch from "./CoverPitch.jsx";
import ConversionOptions from "./ConversionOptions.jsx";
import MixOptions from "./MixOptions.jsx";

export default function CoverForm({ model, suggested, onStarted, initialPitch = 0 }) {
  const { t } = useI18n();
  const [songs, setSongs] = useState([]);
  const [pitch, setPitch] = useState(initialPitch);
  const specs = useServerOptions("cover"); // null until the server has described its options
  const [changed, setChanged] = useState({}); // what the user set; the rest is the server's default
  const values = withDefaults(changed, specs);
  const set = (key) => (value) => setChanged((c) => ({ ...c, [key]: value }));
  const upload = useUpload();
  // Asked before anything is uploaded: a cover the server cannot run is not offered.
  const needs = useJobNeeds("cover", {
    f0_method: values.f0_method,
    separation_model: values.separation_model,
    lead_backing: values.lead_backing,
    dereverb: values.dereverb,
  });
  const blocked = Boolean(needs?.missing?.length);
  const pickSongs = (next) => {
    setSongs(next);
    if (upload.error?.local === "song" && next.length) upload.setError(null); // no stale "choose a song"
  };

  const submit = async (e) => {
    e.preventDefault();
    upload.setError(null);
    if (!songs.length) return upload.setError({ message: t("cover.needSong"), local: "song" });
    if (blocked) return undefined;
    const options = changedOptions(values, defaultsOf(specs));
    delete options.pitch; // sent above, always
    if (!values.lead_backing) delete options.backing; // the backing choice only means something with the split
    if (!Number(values.autotune)) delete options.autotune_key; // the key only means something with autotune
    // One job per song, submitted in order; a refusal stops the batch and keeps what started.
    const started = [];
    for (const song of songs) {
      const body = new FormData();
      body.append("song", song, song.name);
      body.append("model", model);
      body.append("pitch", String(pitch));
      for (const [key, value] of Object.entries(options)) body.append(key, String(value));
      const data = await upload.send("/covers", body);
      if (!data) break;
      started.push({ job_id: data.job_id, model, song_name: song.name });
    }
    if (!started.length) return;
    const active = started.length === 1 ? started[0] : started;
    session.setJSON(KEYS.coverJob, active);
    onStarted(active);
  };

  const busy = upload.busy;
  return (
    <form onSubmit={submit} noValidate aria-labelledby="cover-form-title">
      <h2 id="cover-form-title">{t("cover.title")}</h2>
      <SongPicker songs={songs} onChange={pickSongs} onError={upload.setError} disabled={busy} />
      <CoverPitch
        pitch={pitch}
        onPitch={setPitch}
        auto={Boolean(values.pitch_auto)}
        onAuto={set("pitch_auto")}
        suggested={suggested}
        spec={specs?.pitch}
        disabled={busy}
      />
      {specs ? <ConversionOptions specs={specs} values={values} set={set} /> : null}
      {specs ? <MixOptions specs={specs} values={values} set={set} /> : null}
      {busy ? <ProgressBar value={upload.progress} label={t("common.uploadProgress")} /> : null}
      <ErrorBox error={upload.error} reveal={Boolean(upload.error?.sent)} />
      <NeedsNotice id="cover-needs" needs={needs} />
      <button
        type="submit"
        className="button button-primary button-wide"
        disabled={busy || blocked}
        aria-describedby={blocked ? "cover-needs" : undefined}
      >
        {busy ? t("common.uploading") : t("cover.submit")}
      </button>
    </form>
  );
}
