"""Finished covers on disk: ``settings.covers_dir/<id>/`` with the audio and ``metadata.json``.

Ids are generated here (12 hex digits) and any id from a client is matched against that shape
before it touches a path. A cover appears atomically (built in a ``.tmp-*`` folder, renamed).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from persona.clock import now_iso
from persona.errors import PersonaError
from persona.fsutil import atomic_write_text, remove_stale_leftovers
from persona.library.models import META_FILE
from persona.settings import Settings

_ID_RE = re.compile(r"^[0-9a-f]{12}$")
_AUDIO_FILE_RE = re.compile(r"^cover\.(wav|mp3|flac|ogg)$")
# The song as uploaded, kept beside its cover for the page's A/B comparison.
_ORIGINAL_FILE_RE = re.compile(r"^original\.(wav|mp3|flac|ogg|m4a|aac|opus|webm)$")
ORIGINAL_TYPES = {
    ".m4a": "audio/mp4", ".aac": "audio/aac", ".opus": "audio/ogg", ".webm": "audio/webm",
}  # fmt: skip
AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg"}


@dataclasses.dataclass(frozen=True)
class CoverEntry:
    id: str
    audio_path: Path
    metadata: dict[str, Any]
    original_path: Path | None = None

    @property
    def mimetype(self) -> str:
        return AUDIO_TYPES.get(self.audio_path.suffix.lower(), "application/octet-stream")

    @property
    def original_mimetype(self) -> str:
        ext = self.original_path.suffix.lower() if self.original_path else ""
        return AUDIO_TYPES.get(ext) or ORIGINAL_TYPES.get(ext, "application/octet-stream")

    @property
    def filename(self) -> str:
        """A friendly download name: ``<song> (<model>).<ext>``."""
        song = Path(str(self.metadata.get("song_name") or "cover")).stem
        model = self.metadata.get("model") or "persona"
        return f"{song} ({model}){self.audio_path.suffix}"

    @property
    def pitch(self) -> float | None:
        """The shift the cover was made with, in semitones: for an automatic pitch, the one the
        pipeline chose (or fell back to). Covers made before this was recorded under ``pitch``
        kept it as ``pitch_used`` beside the asked-for value."""
        return self.metadata.get("pitch_used", self.metadata.get("pitch"))

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "model": self.metadata.get("model"),
            "song_name": self.metadata.get("song_name"),
            "pitch": self.pitch,
            "pitch_auto": bool((self.metadata.get("options") or {}).get("pitch_auto")),
            "created_at": self.metadata.get("created_at"),
            "duration_s": self.metadata.get("duration_s"),
            "filename": self.filename,
            "format": self.audio_path.suffix.lstrip("."),
            "size_bytes": self.audio_path.stat().st_size if self.audio_path.exists() else 0,
            "audio_url": f"/api/covers/{self.id}/audio",
            "download_url": f"/api/covers/{self.id}/download",
            "original_url": f"/api/covers/{self.id}/original" if self.original_path else None,
        }
        for key in ("options", "job_id", "stages", "suggested_pitch", "quality", "provenance"):
            if key in self.metadata:
                out[key] = self.metadata[key]
        return out


class CoverLibrary:
    def __init__(self, settings: Settings) -> None:
        self.root = settings.covers_dir

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex[:12]

    def _folder(self, cover_id: str) -> Path:
        if not isinstance(cover_id, str) or not _ID_RE.match(cover_id):
            raise PersonaError("cover_not_found", f"no cover with id {cover_id!r}", status=404)
        return self.root / cover_id

    def get(self, cover_id: str) -> CoverEntry:
        folder = self._folder(cover_id)
        try:
            meta = json.loads((folder / META_FILE).read_text("utf-8"))
            if not _AUDIO_FILE_RE.match(str(meta["audio_file"])):  # never follow a path out of the folder
                raise ValueError("unexpected audio file name")
            audio = folder / meta["audio_file"]
        except (OSError, ValueError, KeyError) as exc:
            raise PersonaError("cover_not_found", f"no cover with id {cover_id!r}", status=404) from exc
        if not audio.is_file():
            raise PersonaError("cover_not_found", f"no cover with id {cover_id!r}", status=404)
        original = meta.get("original_file")
        original_path = (
            folder / original if isinstance(original, str) and _ORIGINAL_FILE_RE.match(original) else None
        )
        if original_path is not None and not original_path.is_file():
            original_path = None
        return CoverEntry(id=cover_id, audio_path=audio, metadata=meta, original_path=original_path)

    def list(self) -> list[CoverEntry]:
        if not self.root.is_dir():
            return []
        out = []
        for child in self.root.iterdir():
            if _ID_RE.match(child.name):
                try:
                    out.append(self.get(child.name))
                except PersonaError:
                    continue
        return sorted(out, key=lambda c: str(c.metadata.get("created_at", "")), reverse=True)

    def add(
        self,
        audio_path: str | Path,
        *,
        model: str,
        song_name: str,
        pitch: float,
        duration_s: float | None = None,
        cover_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        move: bool = True,
        original_path: str | Path | None = None,
    ) -> CoverEntry:
        """Add a finished cover; ``original_path`` (the song as uploaded) is copied beside it."""
        audio_path = Path(audio_path)
        cover_id = cover_id or self.new_id()
        folder = self._folder(cover_id)
        ext = audio_path.suffix.lower() if audio_path.suffix.lower() in AUDIO_TYPES else ".wav"
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            (shutil.move if move else shutil.copyfile)(str(audio_path), str(tmp / f"cover{ext}"))
            meta = {
                "id": cover_id,
                "model": model,
                "song_name": song_name,
                "pitch": pitch,
                "duration_s": duration_s,
                "created_at": now_iso(),
                "audio_file": f"cover{ext}",
            }
            if original_path is not None:
                oext = Path(original_path).suffix.lower()
                if _ORIGINAL_FILE_RE.match(f"original{oext}"):
                    shutil.copyfile(str(original_path), str(tmp / f"original{oext}"))
                    meta["original_file"] = f"original{oext}"
            meta.update(metadata or {})
            atomic_write_text(tmp / META_FILE, json.dumps(meta, ensure_ascii=False, indent=2))
            if folder.exists():
                raise PersonaError("cover_exists", f"cover {cover_id} already exists", status=409)
            os.rename(tmp, folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return self.get(cover_id)

    def delete(self, cover_id: str) -> None:
        self.get(cover_id)
        folder = self._folder(cover_id)
        trash = self.root / f".trash-{uuid.uuid4().hex}"
        os.rename(folder, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def cleanup(self, older_than_s: float = 3600.0) -> None:
        """Remove leftovers of interrupted adds/deletes once they are stale (another process may own a young one)."""
        remove_stale_leftovers(self.root, (".tmp-", ".trash-"), older_than_s)
