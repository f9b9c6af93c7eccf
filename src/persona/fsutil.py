"""Files appear atomically: write to a temporary name in the same folder, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str]) -> Iterator[None]:
    """Hold ``folder/.lock`` exclusively (``flock``: across threads' files and processes) while
    the block runs; the folder is made if it is not there yet."""
    import fcntl

    Path(folder).mkdir(parents=True, exist_ok=True)
    with open(Path(folder) / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success.

    The temporary name keeps the target's suffix (some writers pick the format from it).
    On any exception the temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix if suffix is not None else target.suffix, dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


def remove_stale_leftovers(
    root: str | os.PathLike[str], prefixes: tuple[str, ...], older_than_s: float
) -> None:
    """Delete ``root``'s children named with ``prefixes`` whose mtime is older than ``older_than_s``.

    Another process may be writing a young one right now (an import waiting for torch, a
    build in progress), so only leftovers of clearly dead writers go.
    """
    import shutil
    import time

    root = Path(root)
    if not root.is_dir():
        return
    now = time.time()
    for child in root.iterdir():
        if not child.name.startswith(prefixes):
            continue
        try:
            if now - child.stat().st_mtime > older_than_s:
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        except OSError:
            continue
