// The songs to cover: one or several audio files, each checked before upload; each becomes a cover job.
import { useI18n } from "../../lib/i18n.jsx";
import { addSongs, SONG_LIMITS } from "../../lib/files.js";
import FileDrop from "../FileDrop.jsx";

export default function SongPicker({ songs, onChange, onError, disabled }) {
  const { t } = useI18n();
  return (
    <FileDrop
      name="song"
      label={t("cover.songs")}
      hint={t("cover.songsHint")}
      accept=".wav,.mp3,.flac,audio/*"
      multiple
      files={songs}
      disabled={disabled}
      onAdd={(picked) => {
        const { files, errors } = addSongs(songs, picked, SONG_LIMITS);
        onChange(files);
        onError(errors.length ? { message: errors.map((e) => t(e.key, e.vars)).join(" ") } : null);
      }}
      onRemove={(index) => onChange(songs.filter((_, i) => i !== index))}
    />
  );
}
