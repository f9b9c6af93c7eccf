"""Wall-clock timestamps as Persona writes them: UTC, ISO 8601, whole seconds, ``Z`` suffix.

One format for every record a user or client reads (jobs, models, covers).
"""

from __future__ import annotations

import datetime as dt


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
