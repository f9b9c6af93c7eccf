"""Resumable HTTP download of one file into a ``.part`` file (requests, HTTP Range).

The caller verifies and renames the part into place; this module only moves bytes: it resumes
from what a ``.part`` already holds, retries dropped connections (resuming each time), restarts
when a server ignores Range, and checks the cancel token between chunks (a cancelled download
keeps its part for the next attempt).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import requests

from persona import __version__
from persona.errors import PersonaError
from persona.progress import NEVER_CANCELLED, CancelToken

CHUNK = 64 * 1024  # small reads: a dropped connection loses at most this much
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def new_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = f"persona/{__version__}"
    return session


def _content_range_start(value: str | None) -> int | None:
    m = re.match(r"bytes (\d+)-\d+/(\d+|\*)", value or "")
    return int(m.group(1)) if m else None


def linked_sha256(resp: requests.Response) -> str | None:
    """HuggingFace sends an LFS file's sha256 as ``X-Linked-Etag`` on its ``resolve`` answer (the
    redirect to the CDN); used when the manifest has no hash. Other ETags are not trusted."""
    for r in (resp, *resp.history):
        value = (r.headers.get("X-Linked-Etag") or "").removeprefix("W/").strip('"').lower()
        if _HEX64.match(value):
            return value
    return None


def fetch(
    url: str,
    part: Path,
    *,
    expected_size: int | None = None,
    session: requests.Session | None = None,
    on_bytes: Callable[[int], None] = lambda n: None,
    cancel: CancelToken = NEVER_CANCELLED,
    retries: int = 4,
    backoff: float = 0.5,
    timeout: tuple[float, float] = (15.0, 60.0),
) -> str | None:
    """Download ``url`` into ``part``, resuming from its current length.

    ``on_bytes(n)`` is called with the part's length as it grows. Returns a sha256 the server
    vouched for (HuggingFace's ``X-Linked-Etag``) or None. Raises PersonaError
    ``download_failed`` (the part stays for a later resume) or Cancelled.
    """
    session = session or new_session()
    part.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(part):
        return _fetch_locked(url, part, expected_size, session, on_bytes, cancel, retries, backoff, timeout)


@contextlib.contextmanager
def _exclusive(part: Path) -> Iterator[None]:
    """Hold an advisory lock on the part so two processes never append to the same file."""
    with part.open("ab") as handle:
        try:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - not POSIX: no lock, same behaviour otherwise
            pass
        except OSError:
            raise PersonaError(
                "asset_busy", f"{part.name} is being downloaded by another Persona process", status=409
            ) from None
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                if part.stat().st_size == 0:  # nothing fetched: leave no empty part behind
                    part.unlink()


def _fetch_locked(
    url, part, expected_size, session, on_bytes, cancel, retries, backoff, timeout
) -> str | None:
    failures = 0
    vouched: str | None = None
    while True:
        cancel.check()
        offset = part.stat().st_size if part.exists() else 0
        if expected_size is not None and offset > expected_size:
            part.unlink()
            offset = 0
        if expected_size is not None and offset == expected_size and offset > 0:
            on_bytes(offset)
            return vouched
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            with session.get(url, headers=headers, stream=True, timeout=timeout) as resp:
                vouched = linked_sha256(resp) or vouched
                if resp.status_code == 416 and offset:
                    # Nothing past our offset: the part is complete (the caller verifies it).
                    on_bytes(offset)
                    return vouched
                if resp.status_code in (408, 429) or resp.status_code >= 500:
                    raise requests.ConnectionError(f"HTTP {resp.status_code}")
                if resp.status_code not in (200, 206):
                    raise PersonaError(
                        "download_failed", f"{url} answered HTTP {resp.status_code}", status=502
                    )
                mode = "ab"
                if (
                    resp.status_code == 200
                    or _content_range_start(resp.headers.get("Content-Range")) != offset
                ):
                    mode, offset = "wb", 0  # the server sent the whole file
                length = resp.headers.get("Content-Length")
                want = offset + int(length) if length and length.isdigit() else None
                with part.open(mode) as f:
                    got = offset
                    on_bytes(got)
                    for block in resp.iter_content(CHUNK):
                        if not block:
                            continue
                        f.write(block)
                        got += len(block)
                        on_bytes(got)
                        cancel.check()
                if want is not None and got < want:
                    raise requests.ConnectionError(f"connection closed after {got} of {want} bytes")
                if expected_size is not None and got < expected_size:
                    raise requests.ConnectionError(f"got {got} of {expected_size} bytes")
                return vouched
        except requests.RequestException as exc:
            failures += 1
            if failures > retries:
                have = part.stat().st_size if part.exists() else 0
                raise PersonaError(
                    "download_failed",
                    f"downloading {url} failed ({exc}); {have} bytes kept, run it again to resume",
                    status=502,
                ) from None
            time.sleep(min(backoff * 2 ** (failures - 1), 10.0))
