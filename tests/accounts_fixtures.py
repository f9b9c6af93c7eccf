"""Helpers for the accounts tests: cheap argon2id, people, signing in through a test client."""

from __future__ import annotations

from argon2 import PasswordHasher

from persona.accounts import passwords
from persona.accounts.store import Accounts

GOOD = "correct horse battery staple"
OTHER = "purple monkey dishwasher 42"


def cheap_hashes() -> None:
    """argon2id at a small cost: the same code path, a fraction of the CPU."""
    passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def normal_hashes() -> None:
    passwords.use_hasher(PasswordHasher())


def add_people(settings) -> dict[str, dict]:
    acc = Accounts.of(settings)
    return {
        "admin": acc.create("관리자", GOOD, admin=True),
        "mina": acc.create("Mina", OTHER),
    }


def sign_in(client, name: str, password: str, **kw) -> str:
    """Sign in; returns the CSRF token for later state-changing requests."""
    r = client.post("/api/session", json={"username": name, "password": password}, **kw)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["csrf_token"]
