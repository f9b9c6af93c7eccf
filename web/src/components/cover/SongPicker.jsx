// The songs to cover: one or several audio files, each checked before upload (its ending against
// the server's accepted formats, its first bytes for a real audio file, its length against the
// server's song limit when the browser can read it); each becomes a cover job.
import { useI18n } from "../../lib/i18n.jsx";
import { addSongs, checkSongLengths, SONG_LIMITS, sniffAudio, withServerFormats } from "../../lib/files.js";
import { useHealth } from "../../lib/health.js";
import FileDrop from "../FileDrop.jsx";

export default function SongPicker({ songs, onChange, onError, disabled }) {
  const { t } = useI18n();
  const limits = withServerFormats(SONG_LIMITS, useHealth());
  return (
    <FileDrop
      name="song"
      label={t("cover.songs")}
      hint={t("cover.songsHint", { types: limits.extensions.join(" "), maxMinutes: Math.round(limits.maxSeconds / 60) })}
      accept={[...limits.extensions, "audio/*"].join(",")}
      multiple
      files={songs}
      disabled={disabled}
      onAdd={async (picked) => {
        const sniffed = await sniffAudio(picked, limits); // a renamed non-audio file never gets in
        const measured = await checkSongLengths(sniffed.audio, limits);
        const { files, errors } = addSongs(songs, measured.files, limits);
        onChange(files);
        const all = [...sniffed.errors, ...measured.errors, ...errors];
        onError(all.length ? { message: all.map((e) => t(e.key, e.vars)).join(" ") } : null);
      }}
      onRemove={(index) => onChange(songs.filter((_, i) => i !== index))}
    />
  );
}
