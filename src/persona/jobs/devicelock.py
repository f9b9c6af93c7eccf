"""One GPU-heavy job per device, across processes: ``flock`` slots under ``jobs_dir/locks``.

A device has ``cover_concurrency`` slots. A cover holds one slot; a training holds them all (so it
runs alone on its device). Slots are taken in order with non-blocking tries, so waiting can be
cancelled, and two trainings can never deadlock. The kernel drops a dead process' locks.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

from persona.progress import NEVER_CANCELLED, CancelToken


def _slot_paths(locks_dir: Path, device: str, slots: int) -> list[Path]:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", device)
    locks_dir.mkdir(parents=True, exist_ok=True)
    return [locks_dir / f"{safe}.slot{i}.lock" for i in range(max(1, slots))]


@contextlib.contextmanager
def device_slots(
    locks_dir: Path,
    device: str,
    *,
    slots: int,
    exclusive: bool,
    cancel: CancelToken = NEVER_CANCELLED,
    on_wait=None,
    poll_s: float = 0.2,
) -> Iterator[None]:
    """Hold one slot (``exclusive=False``) or every slot of ``device`` while the block runs."""
    paths = _slot_paths(locks_dir, device, slots)
    held: list[int] = []
    waited = False
    try:
        if exclusive:
            for path in paths:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
                held.append(fd)
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if not waited and on_wait:
                            on_wait()
                        waited = True
                        cancel.check()
                        time.sleep(poll_s)
        else:
            fds = [os.open(p, os.O_RDWR | os.O_CREAT, 0o644) for p in paths]
            got = None
            while got is None:
                for fd in fds:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        got = fd
                        break
                    except BlockingIOError:
                        continue
                if got is None:
                    if not waited and on_wait:
                        on_wait()
                    waited = True
                    try:
                        cancel.check()
                    except BaseException:
                        for fd in fds:
                            os.close(fd)
                        raise
                    time.sleep(poll_s)
            for fd in fds:
                if fd != got:
                    os.close(fd)
            held.append(got)
        yield
    finally:
        for fd in held:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
