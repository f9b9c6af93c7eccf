"""Who is asking: the one place the rest of the server learns the signed-in person.

- ``accounts_enabled(settings)``: True as soon as one account exists. Until then Persona is the
  single-person embedded server it always was (loopback, optional ``PERSONA_TOKEN``) and
  ``current_owner()`` is None everywhere.
- ``current_owner()``: the signed-in person's stable user id (``users.id``) in accounts mode,
  None in single-person mode. Works in a Flask request and in a Socket.IO event handler.
- ``current_user()``: the whole account row (``id, name, admin, disabled, ...``) or None.

The person is set once per request by ``persona.server.signin`` (session cookie or personal
access token) before any route runs; routes never read cookies or tokens themselves.
"""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context, request, session

from persona.settings import Settings

_SOCKET_KEY = "persona_user_id"


def accounts_enabled(settings: Settings) -> bool:
    """True once one account exists in the job database (then every request needs a person)."""
    from persona.accounts.store import Accounts

    return Accounts.of(settings).any_user()


def set_current_user(user: dict[str, Any] | None) -> None:
    """Called by the sign-in layer only."""
    g.persona_user = user


def current_user() -> dict[str, Any] | None:
    if not has_request_context():
        return None
    user = g.get("persona_user")
    if user is not None:
        return user
    if getattr(request, "sid", None) is not None:  # a Socket.IO event: the person of its connection
        return session.get(_SOCKET_KEY) and {"id": session[_SOCKET_KEY], **session.get("persona_user", {})}
    return None


def current_owner() -> str | None:
    """The signed-in person's user id (accounts mode), None in single-person mode."""
    user = current_user()
    return str(user["id"]) if user else None


def is_admin() -> bool:
    user = current_user()
    return bool(user and user.get("admin"))


def remember_for_socket(user: dict[str, Any]) -> None:
    """Keep the person on the Socket.IO connection (its handlers see them via ``current_owner``)."""
    session[_SOCKET_KEY] = user["id"]
    session["persona_user"] = {"name": user.get("name"), "admin": bool(user.get("admin"))}
