// The songs to cover: one or several audio files, each checked before upload (its ending against
// the server's accepted formats, its first bytes for a real audio file); each becomes a cover job.
import { useI18n } from "../../lib/i18n.jsx";
import { addSongs, SONG_LIMITS, sniffAudio, withServerFormats } from "../../lib/files.js";
import { useHealth } from "../../lib/health.js";
import FileDrop from "../FileDrop.jsx";

export default function SongPicker({ songs, onChange, onError, disabled }) {
  const { t } = useI18n();
  const limits = withServerFormats(SONG_LIMITS, useHealth());
  return (
    <FileDrop
      name="song"
      label={t("cover.songs")}
      hint={t("cover.songsHint", { types: limits.extensions.join(" ") })}
      accept={[...limits.extensions, "audio/*"].join(",")}
      multiple
      files={songs}
      disabled={disabled}
      onAdd={async (picked) => {
        const sniffed = await sniffAudio(picked, limits); // a renamed non-audio file never gets in
        const { files, errors } = addSongs(songs, sniffed.audio, limits);
        onChange(files);
        const all = [...sniffed.errors, ...errors];
        onError(all.length ? { message: all.map((e) => t(e.key, e.vars)).join(" ") } : null);
      }}
      onRemove={(index) => onChange(songs.filter((_, i) => i !== index))}
    />
  );
}
