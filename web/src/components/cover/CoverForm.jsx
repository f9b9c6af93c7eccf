// Make a cover: the song, the pitch, and the folded conversion and mix options. Only the options
// the user changed are sent; the server applies its own defaults to the rest.
import { useState } from "react";
import { useI18n } from "../../lib/i18n.jsx";
import { KEYS, session } from "../../lib/storage.js";
import { changedOptions, CONVERSION_DEFAULTS, MIX_DEFAULTS } from "../../lib/options.js";
import { useUpload } from "../../lib/useUpload.js";
import ErrorBox from "../ErrorBox.jsx";
import ProgressBar from "../ProgressBar.jsx";
import SongPicker from "./SongPicker.jsx";
import CoverPitch from "./CoverPitch.jsx";
import ConversionOptions from "./ConversionOptions.jsx";
import MixOptions from "./MixOptions.jsx";

const DEFAULTS = {
  ...CONVERSION_DEFAULTS,
  ...MIX_DEFAULTS,
  dereverb: false,
  lead_backing: false,
  backing: "original",
  key_mode: "vocals",
  separation_model: "auto",
};

export default function CoverForm({ model, suggested, onStarted, initialPitch = 0 }) {
  const { t } = useI18n();
  const [song, setSong] = useState(null);
  const [pitch, setPitch] = useState(initialPitch);
  const [pitchAuto, setPitchAuto] = useState(false);
  const [values, setValues] = useState(DEFAULTS);
  const set = (key) => (value) => setValues((v) => ({ ...v, [key]: value }));
  const upload = useUpload();

  const submit = async (e) => {
    e.preventDefault();
    upload.setError(null);
    if (!song) return upload.setError({ message: t("cover.needSong") });
    const body = new FormData();
    body.append("song", song, song.name);
    body.append("model", model);
    body.append("pitch", String(pitch));
    if (pitchAuto) body.append("pitch_auto", "true");
    const options = changedOptions(values, DEFAULTS);
    if (!values.lead_backing) delete options.backing; // the backing choice only means something with the split
    for (const [key, value] of Object.entries(options)) body.append(key, String(value));
    const data = await upload.send("/covers", body);
    if (!data) return;
    const started = { job_id: data.job_id, model, song_name: song.name };
    session.setJSON(KEYS.coverJob, started);
    onStarted(started);
  };

  const busy = upload.busy;
  return (
    <form onSubmit={submit} noValidate aria-labelledby="cover-form-title">
      <h2 id="cover-form-title">{t("cover.title")}</h2>
      <SongPicker song={song} onChange={setSong} onError={upload.setError} disabled={busy} />
      <CoverPitch pitch={pitch} onPitch={setPitch} auto={pitchAuto} onAuto={setPitchAuto} suggested={suggested} disabled={busy} />
      <ConversionOptions values={values} set={set} />
      <MixOptions values={values} set={set} />
      {busy ? <ProgressBar value={upload.progress} label={t("common.uploadProgress")} /> : null}
      <ErrorBox error={upload.error} />
      <button type="submit" className="button button-primary button-wide" disabled={busy}>
        {busy ? t("common.uploading") : t("cover.submit")}
      </button>
    </form>
  );
}
