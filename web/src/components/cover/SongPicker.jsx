// The song to cover: one audio file, checked before upload.
import { useI18n } from "../../lib/i18n.jsx";
import { acceptOne, SONG_LIMITS } from "../../lib/files.js";
import FileDrop from "../FileDrop.jsx";

export default function SongPicker({ song, onChange, onError, disabled }) {
  const { t } = useI18n();
  return (
    <FileDrop
      name="song"
      label={t("cover.song")}
      hint={t("cover.songHint")}
      accept=".wav,.mp3,.flac,audio/*"
      files={song ? [song] : []}
      disabled={disabled}
      onAdd={(picked) => acceptOne(picked, SONG_LIMITS, t, onChange, onError)}
      onRemove={() => onChange(null)}
    />
  );
}
