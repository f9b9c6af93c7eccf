"""Tell an out-of-memory kill from a restart: the kernel's count of OOM kills, before and after.

The kernel kills a process that exhausts memory with SIGKILL, the same signal as ``kill -9``; to
recovery both look like a worker that vanished. But the kernel counts its OOM kills (cgroup v2
``memory.events`` or v1 ``memory.oom_control``: ``oom_kill`` for the worker's own cgroup, else
``/proc/vmstat: oom_kill`` for the host). A job's attempt notes the count when it starts (``note_start``, a small file in the job's
folder); recovery, finding the job orphaned on the same host, compares (``killed_by_oom``): a
count that rose means the job is reported as ``out_of_memory`` (issue 24: it was reported as
"interrupted by a restart" after being OOM-killed twice). Light: no imports beyond the stdlib.
"""

from __future__ import annotations

from pathlib import Path

MARK = ".oom-kills"


def _cgroup_counters() -> list[Path]:
    """This process's cgroup files that count OOM kills: v2 ``memory.events``, v1
    ``memory.oom_control`` (at the cgroup's path, or at the mount's root inside a container)."""
    found: list[Path] = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            found.append(Path("/sys/fs/cgroup") / path.lstrip("/") / "memory.events")
        elif "memory" in controllers.split(","):
            root = Path("/sys/fs/cgroup/memory")
            found += [root / path.lstrip("/") / "memory.oom_control", root / "memory.oom_control"]
    return [p for p in found if p.is_file()]


def oom_kills() -> int | None:
    """The kernel's OOM-kill count for this process's cgroup (v2, v1) or host; None when unknown."""
    for source in [*_cgroup_counters(), Path("/proc/vmstat")]:
        try:
            for line in source.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            continue
    return None


def note_start(job_dir: Path) -> None:
    """Remember the count as this attempt starts (nothing when it is unknown or unwritable)."""
    count = oom_kills()
    if count is None:
        return
    try:
        (job_dir / MARK).write_text(str(count), encoding="ascii")
    except OSError:
        pass


def killed_by_oom(job_dir: Path) -> bool:
    """Whether the kernel OOM-killed something since the job's attempt started (call it only for
    a job whose worker process is known dead on this host)."""
    try:
        before = int((job_dir / MARK).read_text(encoding="ascii"))
    except (OSError, ValueError):
        return False
    now = oom_kills()
    return now is not None and now > before
