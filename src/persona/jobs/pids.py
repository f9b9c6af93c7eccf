"""Whether a process on this host still runs (for stale tickets, locks and orphaned jobs)."""

from __future__ import annotations

import os


def pid_alive(pid: int | None) -> bool:
    """True when ``pid`` names a live process here (one we may not signal counts as alive)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
