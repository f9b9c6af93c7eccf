"""Finished covers of one owner: ``settings.covers_dir/<id>/`` on disk (the audio and
``metadata.json``), one row each in the catalogue (``persona.library.catalogue``): a cover of
another person answers ``cover_not_found`` exactly like a missing one.

Ids are generated here (12 hex digits) and any id from a client is matched against that shape
before it touches a path. A cover appears atomically (built in a ``.tmp-*`` folder, renamed).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from persona.audio.encode import ENCODINGS
from persona.catalogue.store import Catalogue
from persona.clock import now_iso
from persona.errors import PersonaError
from persona.fsutil import atomic_write_text, folder_lock
from persona.library.models import META_FILE
from persona.settings import Settings

_ID_RE = re.compile(r"^[0-9a-f]{12}$")
_AUDIO_FILE_RE = re.compile(r"^cover\.(wav|mp3|flac|ogg|m4a)$")
# The song as uploaded, kept beside its cover for the page's A/B comparison.
_ORIGINAL_FILE_RE = re.compile(r"^original\.(wav|mp3|flac|ogg|m4a|aac|opus|webm)$")
ORIGINAL_TYPES = {
    ".m4a": "audio/mp4", ".aac": "audio/aac", ".opus": "audio/ogg", ".webm": "audio/webm",
}  # fmt: skip
AUDIO_TYPES = {e.suffix: e.mime for e in ENCODINGS.values()}  # every format a cover is written in


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


_RECONCILED: set[tuple[Any, Path]] = set()  # (database, folder) pairs entered in this process


class CoverLibrary:
    def __init__(self, settings: Settings) -> None:
        self.root = settings.covers_dir
        self.owner = settings.owner
        self.catalogue = Catalogue(settings)
        if (self.catalogue._db.url, self.root) not in _RECONCILED:
            self.reconcile()

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex[:12]

    def _lock(self) -> contextlib.AbstractContextManager[None]:
        return folder_lock(self.root)

    def _read(self, cover_id: str) -> CoverEntry:
        """The cover in this owner's folder, read from disk (no catalogue check)."""
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

    def _enter(self, entry: CoverEntry) -> None:
        size = sum(p.stat().st_size for p in entry.audio_path.parent.iterdir() if p.is_file())
        self.catalogue.put_cover(
            self.owner,
            entry.id,
            model=str(entry.metadata.get("model") or ""),
            song_name=str(entry.metadata.get("song_name") or ""),
            size_bytes=size,
            created_at=str(entry.metadata.get("created_at") or ""),
        )

    def reconcile(self) -> None:
        """Enter cover folders the catalogue lacks (an older home), drop rows whose folder is gone."""
        with self._lock():
            on_disk = (
                {c.name for c in self.root.iterdir() if _ID_RE.match(c.name)} if self.root.is_dir() else set()
            )
            rows = {r["id"] for r in self.catalogue.covers(self.owner)}
            for cover_id in on_disk - rows:
                with contextlib.suppress(PersonaError):
                    self._enter(self._read(cover_id))
            for cover_id in rows - on_disk:
                self.catalogue.drop_cover(self.owner, cover_id)
        _RECONCILED.add((self.catalogue._db.url, self.root))

    def _folder(self, cover_id: str) -> Path:
        if not isinstance(cover_id, str) or not _ID_RE.match(cover_id):
            raise PersonaError("cover_not_found", f"no cover with id {cover_id!r}", status=404)
        return self.root / cover_id

    def get(self, cover_id: str) -> CoverEntry:
        """This owner's cover ``cover_id``; anyone else's answers ``cover_not_found`` (404)."""
        folder = self._folder(cover_id)
        if self.catalogue.cover(self.owner, cover_id) is None:
            if not folder.is_dir():
                raise PersonaError("cover_not_found", f"no cover with id {cover_id!r}", status=404)
            self.reconcile()  # a folder of this owner the catalogue has not seen yet
            if self.catalogue.cover(self.owner, cover_id) is None:
                raise PersonaError("cover_not_found", f"no cover with id {cover_id!r}", status=404)
        return self._read(cover_id)

    def list(self) -> list[CoverEntry]:
        self.reconcile()
        out = []
        for row in self.catalogue.covers(self.owner):
            try:
                out.append(self._read(row["id"]))
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
            with self._lock():
                if folder.exists() or self.catalogue.cover_id_taken(cover_id):
                    raise PersonaError("cover_exists", f"cover {cover_id} already exists", status=409)
                os.rename(tmp, folder)
                self._enter(self._read(cover_id))
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return self.get(cover_id)

    def delete(self, cover_id: str) -> None:
        self.get(cover_id)
        folder = self._folder(cover_id)
        trash = self.root / f".trash-{uuid.uuid4().hex}"
        with self._lock():
            os.rename(folder, trash)
            self.catalogue.drop_cover(self.owner, cover_id)
        shutil.rmtree(trash, ignore_errors=True)
