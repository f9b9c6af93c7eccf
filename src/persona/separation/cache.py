"""The stems cache: separated stems keyed by the song's content and the separation settings.

A second cover of the same song (another voice, another pitch) skips separation. Layout:
``<settings.cache_dir>/stems/<key>/`` holding the stem files and ``meta.json``. The key is a
sha256 over the song file's bytes, the models used, the song's rate and ``CACHE_VERSION``.
An entry is built in a temporary folder and renamed into place (atomic: a reader sees a whole
entry or none). Every hit touches ``meta.json``'s mtime; after each insert the least recently
used entries are evicted until the cache fits ``settings.stems_cache_bytes``. An fcntl lock file
serialises inserts and evictions between worker processes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from persona.fsutil import folder_lock
from persona.settings import Settings

CACHE_VERSION = 1
_META = "meta.json"


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def cache_key(song_sha256: str, params: dict[str, Any]) -> str:
    blob = json.dumps({"song": song_sha256, "v": CACHE_VERSION, **params}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:40]


def _dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file())


class StemsCache:
    def __init__(self, settings: Settings, max_bytes: int | None = None) -> None:
        self.root = settings.cache_dir / "stems"
        self.max_bytes = settings.stems_cache_bytes if max_bytes is None else max_bytes

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return folder_lock(self.root)

    def get(self, key: str) -> dict[str, Path] | None:
        """The stems of ``key`` ({stem name: path}) or None; a hit counts as a use (LRU)."""
        entry = self.root / key
        meta_path = entry / _META
        try:
            meta = json.loads(meta_path.read_text())
            stems = {name: entry / fname for name, fname in meta["stems"].items()}
            if not all(p.is_file() for p in stems.values()):
                return None
            os.utime(meta_path)
            return stems
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def new_entry_dir(self) -> Path:
        """A private folder to build an entry in (pass it to ``put``)."""
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".build-", dir=self.root))

    def put(
        self, key: str, build_dir: Path, stems: dict[str, str], info: dict[str, Any] | None = None
    ) -> dict[str, Path]:
        """Publish ``build_dir`` (holding the files named in ``stems``) as entry ``key``; evict LRU."""
        meta = {"stems": stems, "created": time.time(), "info": info or {}}
        (build_dir / _META).write_text(json.dumps(meta, indent=1))
        entry = self.root / key
        with self._locked():
            if entry.exists():  # another worker finished the same song first: keep theirs
                shutil.rmtree(build_dir, ignore_errors=True)
            else:
                os.replace(build_dir, entry)
            self._evict(keep=key)
        got = self.get(key)
        if got is None:
            raise OSError(f"stems cache entry {key} vanished while being published")
        return got

    def discard(self, build_dir: Path) -> None:
        shutil.rmtree(build_dir, ignore_errors=True)

    def entries(self) -> list[tuple[str, float, int]]:
        """(key, last used, bytes) for every complete entry, least recently used first."""
        out = []
        if not self.root.is_dir():
            return out
        for entry in self.root.iterdir():
            meta = entry / _META
            if entry.name.startswith(".") or not meta.is_file():
                continue
            try:
                out.append((entry.name, meta.stat().st_mtime, _dir_size(entry)))
            except OSError:
                continue
        out.sort(key=lambda e: e[1])
        return out

    def total_bytes(self) -> int:
        return sum(size for _, _, size in self.entries())

    def _evict(self, keep: str | None = None) -> None:
        entries = self.entries()
        total = sum(size for _, _, size in entries)
        for key, _, size in entries:
            if total <= self.max_bytes:
                break
            if key == keep:  # in use right now; it may overshoot the limit until the next insert
                continue
            shutil.rmtree(self.root / key, ignore_errors=True)
            total -= size
        # Builds abandoned by a crashed worker (older than a day) are removed too.
        for stale in self.root.glob(".build-*"):
            with contextlib.suppress(OSError):
                if time.time() - stale.stat().st_mtime > 86400:
                    shutil.rmtree(stale, ignore_errors=True)

    def clear(self) -> None:
        with self._locked():
            for key, _, _ in self.entries():
                shutil.rmtree(self.root / key, ignore_errors=True)
