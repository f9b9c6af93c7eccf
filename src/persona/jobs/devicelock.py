"""One GPU-heavy job per device, across processes: ``flock`` slots under ``jobs_dir/locks``.

A device has ``cover_concurrency`` slots. A cover holds one slot; a training holds them all (so it
runs alone on its device). Slots are taken in order with non-blocking tries, so waiting can be
cancelled, and two trainings can never deadlock. The kernel drops a dead process' locks.

First come, first served: a waiter takes a numbered ticket (``<device>.queue/``, the number from
a counter file under ``flock``) and only the holder of the lowest live ticket tries the slots, so
a cover that arrives later never overtakes an earlier one, and a training at the head of the line
gathers every slot while the covers behind it wait (no starvation). Tickets of dead processes are
dropped by whoever sees them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from persona.jobs.pids import pid_alive
from persona.progress import NEVER_CANCELLED, CancelToken


def _take_ticket(queue_dir: Path) -> Path:
    queue_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(queue_dir / ".counter", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = os.pread(fd, 32, 0).strip()
        number = (int(raw) if raw.isdigit() else 0) + 1
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(number).encode(), 0)
        ticket = queue_dir / f"{number:012d}-{os.getpid()}"
        ticket.touch()
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    return ticket


def _is_head(ticket: Path) -> bool:
    """True when no live ticket is older than ``ticket`` (dead processes' tickets are removed)."""
    for other in sorted(ticket.parent.glob("[0-9]*-[0-9]*")):
        if other.name >= ticket.name:
            return True
        try:
            pid = int(other.name.rsplit("-", 1)[1])
        except ValueError:
            continue
        if pid != os.getpid() and not pid_alive(pid):
            other.unlink(missing_ok=True)
            continue
        return False
    return True


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
    ticket = _take_ticket(locks_dir / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', device)}.queue")

    def wait() -> None:
        nonlocal waited
        if not waited and on_wait:
            on_wait()
        waited = True
        cancel.check()
        time.sleep(poll_s)

    try:
        if exclusive:
            for path in paths:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
                held.append(fd)
                while True:
                    if _is_head(ticket):
                        try:
                            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                            break
                        except BlockingIOError:
                            pass
                    wait()
        else:
            fds = [os.open(p, os.O_RDWR | os.O_CREAT, 0o644) for p in paths]
            got = None
            try:
                while got is None:
                    if _is_head(ticket):
                        for fd in fds:
                            try:
                                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                                got = fd
                                break
                            except BlockingIOError:
                                continue
                    if got is None:
                        wait()
            finally:
                for fd in fds:
                    if fd != got:
                        os.close(fd)
            held.append(got)
        ticket.unlink(missing_ok=True)  # served: the next in line may try
        yield
    finally:
        ticket.unlink(missing_ok=True)
        for fd in held:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


@contextlib.contextmanager
def device_turn(
    locks_dir: Path,
    device: str,
    *,
    slots: int,
    choose: Callable[[], tuple[object, bool] | None],
    poll_s: float = 0.2,
) -> Iterator[object | None]:
    """A turn at ``device``: wait in line, take one free slot, and only then ``choose()`` what runs
    (``(job, exclusive)``, or None when nothing is left to run). An exclusive job then gathers the
    other slots, still at the head of the line. Yields the chosen job (None: the turn was not
    needed; nothing is held). Choosing when a slot is free, not when the wait began, lets a job
    queued meanwhile by someone served less go first (``persona.jobs.fairness``)."""
    paths = _slot_paths(locks_dir, device, slots)
    fds = [os.open(p, os.O_RDWR | os.O_CREAT, 0o644) for p in paths]
    held: list[int] = []
    ticket = _take_ticket(locks_dir / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', device)}.queue")
    try:
        while not held:
            if _is_head(ticket):
                for fd in fds:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        held.append(fd)
                        break
                    except BlockingIOError:
                        continue
            if not held:
                time.sleep(poll_s)
        chosen = choose()
        if chosen is None:
            yield None
            return
        job, exclusive = chosen
        if exclusive:
            for fd in fds:
                while fd not in held:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        held.append(fd)
                    except BlockingIOError:
                        time.sleep(poll_s)
        ticket.unlink(missing_ok=True)  # served: the next in line may try
        yield job
    finally:
        ticket.unlink(missing_ok=True)
        for fd in fds:
            if fd in held:
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
