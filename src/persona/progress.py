"""The one progress protocol for every long operation.

A callback ``progress(stage, fraction, message="", **metrics)`` and a cancel token checked between
steps. The CLI renders it as a progress bar; the worker forwards it to Socket.IO.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from persona.errors import Cancelled, Superseded


class ProgressFn(Protocol):
    def __call__(self, stage: str, fraction: float, message: str = "", **metrics: Any) -> None: ...


def null_progress(stage: str, fraction: float, message: str = "", **metrics: Any) -> None:
    """A progress callback that ignores everything."""


class CancelToken:
    """Set from another thread (or a signal handler); checked by the worker between steps."""

    def __init__(self, is_set: Callable[[], bool] | None = None) -> None:
        self._event = threading.Event()
        self._external = is_set

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """The work should stop: the user asked, or (``superseded``) it is not ours any more."""
        return self._event.is_set() or self.superseded or bool(self._external and self._external())

    @property
    def superseded(self) -> bool:
        """Another run of the same job took over (a job runner's token says so); never set here."""
        return False

    def check(self) -> None:
        """Raise Superseded or Cancelled if the work should stop now."""
        if self.superseded:
            raise Superseded()
        if self.cancelled:
            raise Cancelled()

    def check_owner(self) -> None:
        """Right before writing a result where users see it (library, checkpoint): raise
        Superseded if this run is not the job's current one. A user's stop does not raise here."""
        if self.superseded:
            raise Superseded()


NEVER_CANCELLED = CancelToken()


def staged(progress: ProgressFn, stages: Sequence[tuple[str, float]]) -> Callable[[str], ProgressFn]:
    """Map per-stage fractions onto one overall fraction.

    ``stages`` lists (name, weight). ``staged(p, ...)("convert")`` returns a callback whose 0..1
    fraction covers that stage's share of the whole; metrics pass through unchanged.
    """
    total = sum(w for _, w in stages) or 1.0
    starts: dict[str, tuple[float, float]] = {}
    acc = 0.0
    for name, weight in stages:
        starts[name] = (acc / total, weight / total)
        acc += weight

    def for_stage(name: str) -> ProgressFn:
        start, width = starts[name]

        def report(stage: str, fraction: float, message: str = "", **metrics: Any) -> None:
            f = min(max(fraction, 0.0), 1.0)
            progress(name, start + width * f, message, **metrics)

        return report

    return for_stage
