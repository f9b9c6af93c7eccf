"""The one error type Persona raises for anything a user can fix.

The API maps a PersonaError to a 4xx JSON error ``{"error": {"code", "message", "params"}}``, the
CLI to exit code 2 with one line. ``code`` is stable and the page renders it in the user's
language from its catalogue (``web/src/lib/messages.js``, key ``error.<code>``), filling
``{placeholders}`` from ``params``; ``message`` is the English text (CLI, logs, unknown codes).
``params`` hold what a person recognises (the file name they uploaded, a limit), never server
paths. Anything else is a bug (500 / exit 1) and is logged with its traceback.
"""

from __future__ import annotations

from typing import Any


class PersonaError(Exception):
    """A user-facing failure with a stable ``code``, an English ``message`` and ``params``."""

    def __init__(
        self, code: str, message: str, status: int = 400, *, params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.params: dict[str, Any] = dict(params or {})

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "params": self.params}

    def with_params(self, **params: Any) -> PersonaError:
        """The same error with more (or replaced) params, keeping its code, message and status."""
        self.params.update(params)
        return self

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def duration_params(seconds: float, max_seconds: float) -> dict[str, str]:
    """The params a too-long refusal carries, in minutes as a person reads them: ``minutes``
    (what was sent) and ``max_minutes`` (the limit), e.g. ``{"minutes": "21.5", "max_minutes": "20"}``."""
    return {"minutes": f"{round(seconds / 60, 1):g}", "max_minutes": f"{round(max_seconds / 60, 1):g}"}


class Cancelled(PersonaError):
    """Raised from a cancel token check when the user stopped the work."""

    def __init__(self, message: str = "cancelled by the user", *, saved: bool = False) -> None:
        super().__init__("cancelled", message, status=409, params={"saved": saved})


class Superseded(PersonaError):
    """Raised from a cancel token when another attempt of the same job took it over (recovery
    decided this one was dead): the work stops and writes nothing."""

    def __init__(self, message: str = "another run of this job took over") -> None:
        super().__init__("superseded", message, status=409)


# What ends work on a Stop (``persona.interrupt`` raises them from inside model calls): a catch-all
# that keeps a bonus (a metric, a preview) from failing the work must let these through.
STOPS = (Cancelled, Superseded)
