"""Checksums of asset files, cached by (size, mtime) so large weights are hashed once.

The cache lives in ``<assets>/.persona-verified.json``: ``{"files": {relpath: {size, mtime_ns,
sha256}}, "recorded": {relpath: sha256}}``. ``recorded`` keeps the hash first seen for files whose
manifest entry has no sha256, so later corruption of those is still noticed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from pathlib import Path

from persona.fsutil import atomic_write_text

CACHE_NAME = ".persona-verified.json"
_CHUNK = 1024 * 1024
_lock = threading.Lock()


def sha256_file(path: Path, cancel_check=None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for i, block in enumerate(iter(lambda: f.read(_CHUNK), b"")):
            digest.update(block)
            if cancel_check is not None and i % 64 == 0:
                cancel_check()
    return digest.hexdigest()


class HashCache:
    """Remembers verified hashes of files under ``root`` keyed by size and mtime."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / CACHE_NAME

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"files": {}, "recorded": {}}
        if not isinstance(data, dict):
            return {"files": {}, "recorded": {}}
        data.setdefault("files", {})
        data.setdefault("recorded", {})
        return data

    def _write(self, data: dict) -> None:
        with contextlib.suppress(OSError):  # a read-only assets folder still works, just slower
            self.root.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps(data, indent=1, sort_keys=True))

    def sha256(self, rel: str, path: Path) -> str:
        """The file's sha256, from the cache when its size and mtime are unchanged."""
        st = path.stat()
        with _lock:
            entry = self._read()["files"].get(rel)
        if entry and entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns:
            return str(entry["sha256"])
        digest = sha256_file(path)
        self.remember(rel, path, digest)
        return digest

    def remember(self, rel: str, path: Path, digest: str) -> None:
        st = path.stat()
        with _lock:
            data = self._read()
            data["files"][rel] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
            self._write(data)

    def recorded(self, rel: str) -> str | None:
        with _lock:
            value = self._read()["recorded"].get(rel)
        return str(value) if value else None

    def record(self, rel: str, digest: str) -> None:
        """Keep the first hash seen for a file whose manifest has none."""
        with _lock:
            data = self._read()
            data["recorded"].setdefault(rel, digest)
            self._write(data)

    def forget(self, rel: str) -> None:
        with _lock:
            data = self._read()
            if data["files"].pop(rel, None) is not None:
                self._write(data)
