"""A file for a Flask test client's multipart form, the one way the tests upload.

    client.post("/api/covers", data={"model": "m", "song": upload(song_path, "노래.wav")})

``source`` is a path (read now) or the bytes themselves; ``name`` is the file name the client
sends (default: the path's own name).
"""

from __future__ import annotations

import io
from pathlib import Path


def upload(source: Path | str | bytes, name: str | None = None) -> tuple[io.BytesIO, str]:
    if isinstance(source, bytes):
        return io.BytesIO(source), name or "upload.bin"
    path = Path(source)
    return io.BytesIO(path.read_bytes()), name or path.name
