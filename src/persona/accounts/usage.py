"""What a person uses and may use, as the account answers show it (``GET /api/me``, the admin list).

The numbers belong to whoever owns people's objects (the catalogue); it registers
``register_usage(fn)`` with ``fn(settings, user_row) -> {"usage": {...}, "quota": {...}}``
explicitly from its install function. Until then usage is zero and the quota is the account's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from persona.settings import Settings

UsageFn = Callable[[Settings, dict[str, Any]], dict[str, Any]]
_usage: list[UsageFn] = []


def register_usage(fn: UsageFn) -> None:
    _usage[:] = [fn]


def usage_of(settings: Settings, user: dict[str, Any]) -> dict[str, Any]:
    """``{"usage": {"bytes": int, ...}, "quota": {"bytes": int | None, ...}}`` for the person."""
    if _usage:
        return _usage[0](settings, user)
    return {"usage": {"bytes": 0}, "quota": {"bytes": user.get("quota_bytes")}}
