"""A request's parameters as plain data: a number's range, a choice's list, a flag; each with its default.

The job request types declare theirs once (``persona.cover.request.COVER_PARAMS``,
``persona.training.request.TRAIN_PARAMS``); the server parses its forms, writes its OpenAPI
schemas and the ``options`` block of ``GET /api/health`` from them, and the CLI takes its
defaults from them. Defaults are read from the request dataclasses' own fields (``default_of``),
so a default is written in one place. Light: no torch, no Flask.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any


@dataclasses.dataclass(frozen=True)
class Number:
    """A number from ``min`` to ``max`` (whole when ``type`` is int)."""

    type: type  # int or float
    min: float
    max: float
    default: float | None
    field: str | None = None  # the request field, when it is named differently

    def describe(self) -> dict[str, Any]:
        kind = "integer" if self.type is int else "number"
        return {"type": kind, "min": self.min, "max": self.max, "default": self.default}

    def holds(self, value: Any) -> bool:
        """``value`` is a finite number in range (and whole, for an int)."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            return False
        if not math.isfinite(number) or (self.type is int and number != int(number)):
            return False
        return self.min <= number <= self.max

    def range_text(self) -> str:
        """``between -24 and 24`` / ``a whole number between 0 and 7`` (for error messages)."""
        whole = "a whole number " if self.type is int else ""
        return f"{whole}between {self.min:g} and {self.max:g}"


@dataclasses.dataclass(frozen=True)
class Choice:
    """One of ``choices`` (lower-case strings)."""

    choices: tuple[str, ...]
    default: str
    field: str | None = None
    # Also takes composed values the request type validates itself (``hybrid[rmvpe+crepe]``).
    pattern: str | None = None

    def describe(self) -> dict[str, Any]:
        out = {"type": "string", "choices": list(self.choices), "default": self.default}
        if self.pattern:
            out["pattern"] = self.pattern
        return out


@dataclasses.dataclass(frozen=True)
class Flag:
    """On or off."""

    default: bool
    field: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"type": "boolean", "default": self.default}


Param = Number | Choice | Flag


def default_of(cls: type, name: str) -> Any:
    """The default of dataclass ``cls``'s field ``name`` (the one place it is written)."""
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    if field.default is not dataclasses.MISSING:
        return field.default
    raise ValueError(f"{cls.__name__}.{name} has no plain default")


def describe(params: dict[str, Param]) -> dict[str, dict[str, Any]]:
    """``{name: {type, min, max, default} | {type, choices, default} | {type, default}}``."""
    return {name: spec.describe() for name, spec in params.items()}
