"""`persona users add|list|passwd|disable|enable|delete|token`: the people of this server.

Accounts are on as soon as one exists (then every web request needs a person); the first person
is always an administrator. Passwords come from the terminal (asked twice, not echoed) or, for
scripts, one line on stdin with ``--password-stdin``; they are never taken as arguments (those
show in ``ps`` and shell history). ``token`` prints the new token as the last word of its last line.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import Any

from persona.cli.listing import add_json_flag, print_rows
from persona.errors import PersonaError

GB = 1_000_000_000


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the top-level parser."""
    p = sub.add_parser("users", help="manage the people of this server (accounts)")
    users = p.add_subparsers(dest="users_command", metavar="ACTION", parser_class=type(p))
    p.set_defaults(func=lambda args, settings: p.print_help() or 2)

    a = _add_person_action(users, "add", "add a person (the first one is an administrator)", _add)
    a.add_argument("--admin", action="store_true", help="may manage people")
    _add_password_stdin(a)
    a.add_argument("--quota-gb", type=float, default=None, help="storage limit in GB (default: the server's)")

    ls = users.add_parser("list", help="list the people")
    add_json_flag(ls)
    ls.set_defaults(func=_list)

    pw = _add_person_action(users, "passwd", "set a person's password (ends their sessions)", _passwd)
    _add_password_stdin(pw)
    _add_person_action(
        users, "disable", "stop a person from signing in (ends their sessions)", _set_disabled, disabled=True
    )
    _add_person_action(users, "enable", "let a disabled person sign in again", _set_disabled, disabled=False)
    rm = _add_person_action(users, "delete", "delete a person and ALL their data", _delete)
    rm.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    t = _add_person_action(users, "token", "make a personal access token (printed once, last word)", _token)
    t.add_argument("--label", default=None, help="what the token is for (default 'token')")


def _add_person_action(
    users: argparse._SubParsersAction, action: str, what: str, func: Callable, **defaults: Any
) -> argparse.ArgumentParser:
    """``persona users ACTION NAME``: an action on the person named ``NAME``."""
    p = users.add_parser(action, help=what)
    p.add_argument("name")
    p.set_defaults(func=func, **defaults)
    return p


def _add_password_stdin(p: argparse.ArgumentParser) -> None:
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin (one line)")


def _accounts(settings):
    from persona.accounts.store import Accounts

    return Accounts.of(settings)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise PersonaError("password_needed", "no terminal to ask for the password: use --password-stdin")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise PersonaError("password_mismatch", "the two passwords differ")
    return first


def _add(args: argparse.Namespace, settings) -> int:
    acc = _accounts(settings)
    first = not acc.any_user()
    password = _read_password(args)
    quota = None if args.quota_gb is None else int(args.quota_gb * GB)
    row = acc.create(args.name, password, admin=args.admin or first, quota_bytes=quota)
    if first:
        from persona.catalogue.people import hand_over_local

        hand_over_local(settings, row["id"])  # what was made before accounts is theirs now
    role = "administrator" if row["admin"] else "person"
    print(f"added {row['name']} ({role})")
    if first:
        print("accounts are on: every web request now needs a person (sign in on the page)")
    return 0


def _list(args: argparse.Namespace, settings) -> int:
    from persona.accounts.store import Accounts

    return print_rows(
        [Accounts.public(row) for row in _accounts(settings).list()],
        as_json=args.json,
        line=_person_line,
        empty="no accounts (single-person mode): persona users add NAME --admin",
    )


def _person_line(p: dict) -> str:
    quota = "default" if p["quota_bytes"] is None else f"{p['quota_bytes'] / GB:g} GB"
    flags = ",".join(f for f, on in (("admin", p["admin"]), ("disabled", p["disabled"])) if on) or "-"
    return f"{p['name']}\t{flags}\tquota={quota}\t{p['created_at']}"


def _passwd(args: argparse.Namespace, settings) -> int:
    acc = _accounts(settings)
    row = acc.by_name(args.name)
    acc.set_password(row["id"], _read_password(args))
    print(f"password of {row['name']} changed; their sessions ended")
    return 0


def _set_disabled(args: argparse.Namespace, settings) -> int:
    acc = _accounts(settings)
    row = acc.change(acc.by_name(args.name)["id"], disabled=args.disabled)
    if row["disabled"]:
        from persona.jobs.store import JobStore

        JobStore(settings).cancel_all_of(row["id"])  # none of their jobs runs on
    print(f"{row['name']} {'disabled' if row['disabled'] else 'enabled'}")
    return 0


def _delete(args: argparse.Namespace, settings) -> int:
    from persona.accounts.erase import erase_person

    row = _accounts(settings).by_name(args.name)
    if not args.yes:
        if not sys.stdin.isatty():
            raise PersonaError("confirm_needed", "deleting erases all of the person's data: add --yes")
        answer = input(
            f"erase {row['name']} and ALL their voice models, covers and recordings? type the name: "
        )
        if answer.strip() != row["name"]:
            print("not deleted")
            return 1
    erase_person(settings, row["id"])
    print(f"deleted {row['name']} and their data")
    return 0


def _token(args: argparse.Namespace, settings) -> int:
    from persona.accounts import credentials

    acc = _accounts(settings)
    row = acc.by_name(args.name)
    record, secret = credentials.issue_token(acc, row["id"], args.label)
    print(f"token '{record['label']}' for {row['name']} (id {record['id']}); it is shown only now:")
    print(secret)
    return 0
