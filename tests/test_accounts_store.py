"""The accounts layer without a web server: people, argon2id hashes, sessions, tokens, erasing."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from persona.accounts import credentials, erase, passwords
from persona.accounts.store import Accounts
from persona.errors import PersonaError
from persona.server.identity import accounts_enabled

GOOD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def cheap_hashes():
    """argon2id with a small cost: the same code path, a fraction of the CPU."""
    passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    passwords.use_hasher(PasswordHasher())


def test_accounts_switch_on_with_the_first_person(settings):
    assert not accounts_enabled(settings)
    Accounts.of(settings).create("Mina", GOOD, admin=True)
    assert accounts_enabled(settings)


def test_hashes_are_argon2id_and_names_fold(settings):
    acc = Accounts.of(settings)
    row = acc.create("Mina", GOOD)
    assert row["password_hash"].startswith("$argon2id$")
    assert GOOD not in row["password_hash"]
    assert acc.authenticate("MINA", GOOD)["id"] == row["id"]
    assert acc.authenticate("mina", "wrong password here") is None
    assert acc.authenticate("nobody", GOOD) is None
    with pytest.raises(PersonaError) as err:
        acc.create("mina", GOOD)
    assert err.value.code == "user_exists"


@pytest.mark.parametrize(
    ("name", "reason"), [("", "empty"), ("   ", "empty"), ("x" * 33, "too_long"), ("a\x00b", "unprintable")]
)
def test_bad_names_are_refused_with_a_reason(settings, name, reason):
    with pytest.raises(PersonaError) as err:
        Accounts.of(settings).create(name, GOOD)
    assert (err.value.code, err.value.params["reason"]) == ("name_invalid", reason)


@pytest.mark.parametrize(
    ("password", "code", "reason"),
    [
        ("", "password_invalid", "empty"),
        ("x" * 300, "password_invalid", "too_long"),
        ("abc\x07defghijkl", "password_invalid", "unprintable"),
        ("short1", "password_weak", "too_short"),
        ("password123", "password_weak", "guessable"),
        ("minaminamina1", "password_weak", "contains_name"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(settings, password, code, reason):
    with pytest.raises(PersonaError) as err:
        Accounts.of(settings).create("mina", password)
    assert (err.value.code, err.value.params["reason"]) == (code, reason)


def test_sessions_and_tokens_are_stored_hashed_and_revocable(settings):
    acc = Accounts.of(settings)
    user = acc.create("Mina", GOOD)
    sid = credentials.open_session(acc, user["id"])
    record, token = credentials.issue_token(acc, user["id"], "laptop")
    assert token.startswith("prs_") and record["label"] == "laptop"
    raw = (settings.jobs_dir / "jobs.sqlite3").read_bytes() + (
        settings.jobs_dir / "jobs.sqlite3-wal"
    ).read_bytes()
    assert sid.encode() not in raw and token.encode() not in raw
    assert credentials.session_user(acc, sid)["id"] == user["id"]
    assert credentials.token_user(acc, token)["id"] == user["id"]
    assert credentials.list_tokens(acc, user["id"])[0]["last_used_at"] is not None
    credentials.close_session(acc, sid)
    credentials.revoke_token(acc, user["id"], record["id"])
    assert credentials.session_user(acc, sid) is None
    assert credentials.token_user(acc, token) is None


def test_disabling_ends_sessions_and_stops_tokens(settings):
    acc = Accounts.of(settings)
    acc.create("Admin", GOOD, admin=True)
    user = acc.create("Mina", GOOD)
    sid = credentials.open_session(acc, user["id"])
    _, token = credentials.issue_token(acc, user["id"])
    acc.change(user["id"], disabled=True)
    assert credentials.session_user(acc, sid) is None
    assert credentials.token_user(acc, token) is None
    assert acc.authenticate("mina", GOOD) is None
    acc.change(user["id"], disabled=False)
    assert credentials.token_user(acc, token)["id"] == user["id"]
    assert credentials.session_user(acc, sid) is None  # a revoked session stays revoked


def test_the_last_admin_stays(settings):
    acc = Accounts.of(settings)
    admin = acc.create("Admin", GOOD, admin=True)
    for change in ({"admin": False}, {"disabled": True}):
        with pytest.raises(PersonaError) as err:
            acc.change(admin["id"], **change)
        assert err.value.code == "last_admin"
    with pytest.raises(PersonaError):
        erase.erase_person(settings, admin["id"])
    assert acc.get(admin["id"])["admin"]


def test_erasing_a_person_calls_the_data_eraser_then_removes_everything(settings, monkeypatch):
    acc = Accounts.of(settings)
    acc.create("Admin", GOOD, admin=True)
    user = acc.create("Mina", GOOD)
    credentials.open_session(acc, user["id"])
    credentials.issue_token(acc, user["id"])
    seen = []
    monkeypatch.setattr(erase, "_erasers", [lambda s, uid: seen.append(uid)])
    erase.erase_person(settings, user["id"])
    assert seen == [user["id"]]
    assert acc.find("mina") is None
    with acc.db.reading() as conn:
        for table in ("sessions", "access_tokens"):
            assert conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() == 0
