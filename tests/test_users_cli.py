"""`persona users ...`: accounts from the command line (passwords on stdin, tokens last word)."""

from __future__ import annotations

import io
import json

import pytest
from accounts_fixtures import GOOD, OTHER, cheap_hashes, normal_hashes

from persona.accounts import credentials
from persona.accounts.store import Accounts
from persona.cli import main


@pytest.fixture(autouse=True)
def _cheap():
    cheap_hashes()
    yield
    normal_hashes()


def run(settings, monkeypatch, capsys, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setenv("PERSONA_HOME", str(settings.home))
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_users_from_the_command_line(settings, monkeypatch, capsys):
    code, out, _ = run(
        settings, monkeypatch, capsys, "users", "add", "Mina", "--password-stdin", stdin=GOOD + "\n"
    )
    assert code == 0 and "administrator" in out and "accounts are on" in out  # the first is an admin
    code, out, _ = run(
        settings,
        monkeypatch,
        capsys,
        "users",
        "add",
        "Jun",
        "--password-stdin",
        "--quota-gb",
        "1.5",
        stdin=OTHER,
    )
    assert code == 0 and "(person)" in out
    code, out, _ = run(settings, monkeypatch, capsys, "users", "list", "--json")
    people = {p["name"]: p for p in json.loads(out)}
    assert people["Mina"]["admin"] and not people["Jun"]["admin"]
    assert people["Jun"]["quota_bytes"] == 1_500_000_000

    code, out, _ = run(settings, monkeypatch, capsys, "users", "token", "jun", "--label", "script")
    secret = out.strip().splitlines()[-1].split()[-1]
    acc = Accounts.of(settings)
    assert code == 0 and credentials.token_user(acc, secret)["name"] == "Jun"

    assert run(settings, monkeypatch, capsys, "users", "disable", "Jun")[0] == 0
    assert credentials.token_user(acc, secret) is None
    assert run(settings, monkeypatch, capsys, "users", "enable", "Jun")[0] == 0

    new = "an entirely new passphrase 7"
    assert run(settings, monkeypatch, capsys, "users", "passwd", "Jun", "--password-stdin", stdin=new)[0] == 0
    assert acc.authenticate("jun", new) is not None and acc.authenticate("jun", OTHER) is None

    code, _, err = run(settings, monkeypatch, capsys, "users", "delete", "Jun")
    assert code == 2 and "confirm_needed" in err
    assert run(settings, monkeypatch, capsys, "users", "delete", "Jun", "--yes")[0] == 0
    assert acc.find("jun") is None and credentials.token_user(acc, secret) is None


@pytest.mark.parametrize(
    ("argv", "stdin", "code_word"),
    [
        (("users", "add", "Mina", "--password-stdin"), "short\n", "password_weak"),
        (("users", "add", "", "--password-stdin"), GOOD, "name_invalid"),
        (("users", "add", "Mina"), "", "password_needed"),
        (("users", "passwd", "nobody", "--password-stdin"), GOOD, "user_not_found"),
        (("users", "token", "nobody"), "", "user_not_found"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(settings, monkeypatch, capsys, argv, stdin, code_word):
    code, out, err = run(settings, monkeypatch, capsys, *argv, stdin=stdin)
    assert code == 2 and code_word in err and len(err.strip().splitlines()) == 1
    assert GOOD not in err + out


def test_the_last_admin_cannot_be_deleted(settings, monkeypatch, capsys):
    run(settings, monkeypatch, capsys, "users", "add", "Mina", "--password-stdin", stdin=GOOD)
    code, _, err = run(settings, monkeypatch, capsys, "users", "delete", "Mina", "--yes")
    assert code == 2 and "last_admin" in err
