"""Deleting a person: their data first, then their sessions, tokens and account row.

Whoever owns people's objects (the catalogue, uploads, jobs) lists its eraser in
``DATA_ERASERS`` as ``"module:function"``, a ``function(settings, user_id) -> None`` that removes
everything of that person (files and rows) and is safe to run twice. The list is read at each
deletion (the web routes and ``persona users delete`` alike), so nothing depends on import
order or on a composition root remembering to register. ``register_data_eraser`` adds one for
this process only (tests).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from persona.accounts.store import Accounts
from persona.settings import Settings

DataEraser = Callable[[Settings, str], None]
# "module:function" of every eraser of a person's data, in the order they run.
DATA_ERASERS: tuple[str, ...] = (
    "persona.jobs.store:stop_person_jobs",  # first: no worker writes into their folders any more
    "persona.catalogue.people:erase_person_data",
)
_erasers: list[DataEraser] = []


def data_erasers() -> list[DataEraser]:
    found = []
    for spec in DATA_ERASERS:
        module, _, name = spec.partition(":")
        found.append(getattr(importlib.import_module(module), name))
    return found + [fn for fn in _erasers if fn not in found]


def register_data_eraser(fn: DataEraser) -> None:
    """Add ``fn(settings, user_id)``, called before the account row goes (idempotent per fn)."""
    if fn not in _erasers:
        _erasers.append(fn)


def erase_person(settings: Settings, user_id: str) -> None:
    """Erase the person's data (every registered eraser), then sessions, tokens and the account.
    Refused (409 ``last_admin``) for the last enabled administrator, before anything is erased."""
    accounts = Accounts.of(settings)
    row = accounts.get(user_id)
    if row["admin"] and not row["disabled"]:
        with accounts.db.reading() as conn:
            if accounts.count_admins(conn) <= 1:
                from persona.errors import PersonaError

                raise PersonaError("last_admin", "the last administrator cannot be deleted", status=409)
    for eraser in data_erasers():
        eraser(settings, user_id)
    accounts.remove(user_id)
