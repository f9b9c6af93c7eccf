"""The one error type Persona raises for anything a user can fix.

The API maps a PersonaError to a 4xx JSON error, the CLI to exit code 2 with one line.
Anything else is a bug (500 / exit 1) and is logged with its traceback.
"""

from __future__ import annotations


class PersonaError(Exception):
    """A user-facing failure with a stable machine-readable ``code`` and a human ``message``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class Cancelled(PersonaError):
    """Raised from a cancel token check when the user stopped the work."""

    def __init__(self, message: str = "cancelled by the user") -> None:
        super().__init__("cancelled", message, status=409)
