"""Deleting a person: their data first (through the hook the data's owner registers), then their
sessions, tokens and account row.

The data eraser is registered explicitly by whoever owns people's objects (the catalogue):
``register_data_eraser(fn)`` with ``fn(settings, user_id) -> None``. Nothing registers on import;
the composition roots (``create_app``, the CLI) call the owner's ``install`` function.
"""

from __future__ import annotations

from collections.abc import Callable

from persona.accounts.store import Accounts
from persona.settings import Settings

DataEraser = Callable[[Settings, str], None]
_erasers: list[DataEraser] = []


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
    for eraser in list(_erasers):
        eraser(settings, user_id)
    accounts.remove(user_id)
