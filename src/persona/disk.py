"""A full disk, said plainly: one ``disk_full`` error (HTTP 507) for every way it shows.

A full disk surfaces as ``OSError(ENOSPC)`` (or ``EDQUOT``, a quota) from any write, as SQLite's
"database or disk is full", or as PostgreSQL's SQLSTATE 53100 ``disk_full``, often wrapped by
SQLAlchemy or raised while handling another error. ``as_disk_full`` recognises all of them
anywhere in an exception's chain; the web app, the job runner and the CLI turn what it finds
into ``PersonaError("disk_full", ..., 507)`` instead of an internal error. ``require_free``
refuses an upload or a job before it is accepted when the data folder has less than
``Settings.min_free_mb`` (plus what the upload will write) free. Light: stdlib only.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from persona.errors import PersonaError

_CODES = {errno.ENOSPC, errno.EDQUOT}


def _is_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in _CODES:
        return True
    for holder in (exc, getattr(exc, "orig", None)):  # SQLAlchemy keeps the driver's error as .orig
        if holder is None:
            continue
        if getattr(holder, "pgcode", None) == "53100" or getattr(holder, "sqlstate", None) == "53100":
            return True
        if "database or disk is full" in str(holder)[:500]:
            return True
    return False


def as_disk_full(exc: BaseException | None) -> PersonaError | None:
    """``disk_full`` (507) when ``exc`` or anything in its cause/context chain is a full disk."""
    seen = 0
    while exc is not None and seen < 16:
        if isinstance(exc, PersonaError):
            return exc if exc.code == "disk_full" else None
        if _is_full(exc):
            return disk_full()
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def disk_full(needed_mb: int | None = None, free_mb: int | None = None) -> PersonaError:
    """The one wording of a full disk."""
    params = {}
    if needed_mb is not None and free_mb is not None:
        params = {"needed_mb": needed_mb, "free_mb": free_mb}
    return PersonaError(
        "disk_full",
        "the server's disk is full; nothing was saved. Free some space and try again",
        status=507,
        params=params,
    )


def free_bytes(path: Path) -> int | None:
    """Bytes free for this user under ``path`` (its nearest existing parent); None if unknown."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def require_free(path: Path, min_free_mb: int, incoming_bytes: int = 0) -> None:
    """Refuse (``disk_full``) unless ``path``'s disk keeps ``min_free_mb`` free after
    ``incoming_bytes`` are written: checked before an upload is read or a job is queued."""
    free = free_bytes(path)
    if free is None or min_free_mb <= 0 and incoming_bytes <= 0:
        return
    needed = (min_free_mb << 20) + max(0, incoming_bytes)
    if free < needed:
        raise disk_full(needed_mb=-(-needed // (1 << 20)), free_mb=free // (1 << 20))
