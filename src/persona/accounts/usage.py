"""What a person uses and may use, as the account answers show it (``GET /api/me``, the admin list).

The numbers belong to whoever owns people's objects (the catalogue): it names its function in
``USAGE`` as ``"module:function"``, ``function(settings, user_row) -> {"usage": {...}, "quota":
{...}}`` (read at each call: no registration, the same in every process). Until then usage is
zero and the quota is the account's own. ``register_usage`` overrides it for this process (tests).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from persona.settings import Settings

UsageFn = Callable[[Settings, dict[str, Any]], dict[str, Any]]
USAGE: str | None = "persona.catalogue.people:account_usage"
_usage: list[UsageFn] = []


def register_usage(fn: UsageFn) -> None:
    _usage[:] = [fn]


def usage_of(settings: Settings, user: dict[str, Any]) -> dict[str, Any]:
    """``{"usage": {"bytes": int, ...}, "quota": {"bytes": int | None, ...}}`` for the person."""
    if _usage:
        return _usage[0](settings, user)
    if USAGE:
        module, _, name = USAGE.partition(":")
        return getattr(importlib.import_module(module), name)(settings, user)
    return {"usage": {"bytes": 0}, "quota": {"bytes": user.get("quota_bytes")}}
