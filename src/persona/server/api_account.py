"""Signing in and one's own account: ``/api/session``, ``/api/setup``, ``/api/me``,
``/api/me/password``, ``/api/tokens``.

Sign-in answers the same (401 ``sign_in_failed``) for an unknown name, a wrong password and a
disabled person, after the same work (one argon2 verification). Failed attempts are throttled per
name and per address (429 ``too_many_attempts``; Flask-Limiter, Redis in scale-out); a wrong
current password when changing one's own password counts against the same two limits (shared
counters: a stolen session buys no extra guesses). Passwords and tokens are never logged nor
echoed; a new token is shown once, in the answer that makes it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, g, jsonify, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded

from persona.accounts import credentials, passwords
from persona.accounts.erase import erase_person
from persona.accounts.usage import usage_of
from persona.catalogue.people import hand_over_local
from persona.errors import PersonaError
from persona.server import errors, identity, signin
from persona.settings import Settings


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise PersonaError("body_invalid", "send a JSON object", params={})
    return data


def _name_key() -> str:
    data = request.get_json(silent=True)
    name = data.get("username") if isinstance(data, dict) else None
    if not isinstance(name, str) or len(name) > 4 * passwords.NAME_MAX:
        return "account:?"
    return "account:" + passwords.name_key(name.strip())


def _my_key() -> str:
    """The signed-in person's key in the per-account limit (the same one sign-in counts by name)."""
    row = identity.current_user()
    return "account:" + passwords.name_key(row["name"]) if row else "account:?"


def _address() -> str:
    return "address:" + (request.remote_addr or "?")


def _failed(response) -> bool:
    return response.status_code in (401, 403)


def me_answer(settings: Settings, row: dict[str, Any]) -> dict[str, Any]:
    user = signin.public_user(row)
    numbers = usage_of(settings, row)
    return {**user, "username": user["name"], "usage": numbers["usage"], "quota": numbers["quota"]}


def signed_in(settings: Settings, row: dict[str, Any], status: int = 200):
    token = signin.sign_in(row)
    return jsonify({"user": me_answer(settings, row), "csrf_token": token}), status


def blueprint(app: Flask, settings: Settings) -> Blueprint:
    """The routes, with sign-in throttling on this app's limiter."""
    limiter = Limiter(
        _address,
        app=app,
        storage_uri=settings.redis_url or "memory://",
        key_prefix="persona-signin",
        strategy="moving-window",
    )
    # Shared scopes: every route that checks a password counts failures in the same two buckets.
    per_account = limiter.shared_limit(
        settings.signin_per_account, "signin-account", key_func=_name_key, deduct_when=_failed
    )
    my_account = limiter.shared_limit(
        settings.signin_per_account, "signin-account", key_func=_my_key, deduct_when=_failed
    )
    per_address = limiter.shared_limit(
        settings.signin_per_address, "signin-address", key_func=_address, deduct_when=_failed
    )
    bp = Blueprint("account", __name__)

    @app.errorhandler(RateLimitExceeded)
    def too_many(exc: RateLimitExceeded):
        return errors.error_response(
            "too_many_attempts", "too many failed attempts; wait a few minutes and try again", 429
        )

    @bp.get("/api/session")
    def probe():
        on = identity.accounts_enabled(settings)
        user = identity.current_user() if on else None
        return jsonify(
            {
                "accounts": on,
                "signed_in": user is not None,
                "user": me_answer(settings, user) if user else None,
                "setup": not on and signin.loopback_client(),
                "csrf_token": signin.csrf_token() if user else None,
            }
        )

    @bp.post("/api/session")
    @per_account
    @per_address
    def sign_in():
        if not identity.accounts_enabled(settings):
            raise PersonaError("accounts_off", "this server has no accounts yet", status=404)
        data = body()
        name = passwords.clean_name(data.get("username"))
        password = passwords.check_password_shape(data.get("password"))
        row = signin.accounts().authenticate(name, password)
        if row is None:
            raise PersonaError("sign_in_failed", "wrong name or password", status=401)
        return signed_in(settings, row)

    @bp.delete("/api/session")
    def sign_out():
        if identity.current_user() is not None:  # only a session the gate checked (CSRF included)
            signin.sign_out()
        return "", 204

    @bp.post("/api/setup")
    @per_address
    def setup():
        """The first administrator, from a browser on this machine only, while no account exists."""
        if identity.accounts_enabled(settings):
            raise PersonaError("setup_closed", "this server already has an administrator", status=403)
        if not signin.loopback_client():
            raise PersonaError(
                "setup_loopback_only",
                "the first administrator can only be made on the server's own machine",
                status=403,
            )
        data = body()
        row = signin.accounts().create_first_admin(data.get("username"), data.get("password"))
        hand_over_local(settings, row["id"])  # what was made before accounts is theirs now
        return signed_in(settings, row, 201)

    @bp.get("/api/me")
    def me():
        return jsonify(me_answer(settings, _me()))

    @bp.delete("/api/me")
    @per_address
    def delete_me():
        """Leave: with the password; erases everything of the person, then signs out."""
        row = _me()
        password = passwords.check_password_shape(body().get("password"))
        if signin.accounts().authenticate(row["name"], password) is None:
            raise PersonaError("password_wrong", "the password is not right", status=403)
        erase_person(settings, row["id"])
        signin.sign_out()
        return "", 204

    @bp.post("/api/me/password")
    @my_account
    @per_address
    def change_password():
        """A new password, with the current one. Every other session of the person ends (and
        their live sockets); this browser gets a fresh session (no fixation). Tokens stay."""
        row = _me()
        data = body()
        current = passwords.check_password_shape(data.get("current_password"))
        new = passwords.check_password_shape(data.get("new_password"))
        if signin.accounts().authenticate(row["name"], current) is None:
            raise PersonaError("password_wrong", "the current password is not right", status=403)
        signin.accounts().set_password(row["id"], new)  # strength checked; every session ends
        by_session = g.get("persona_credential", ("",))[0] == "session"
        answer = {"user": me_answer(settings, row), "csrf_token": signin.sign_in(row) if by_session else None}
        signin.end_revoked_sockets()  # this process' sockets of the ended sessions go now
        return jsonify(answer)

    @bp.get("/api/tokens")
    def list_tokens():
        return jsonify(credentials.list_tokens(signin.accounts(), _me()["id"]))

    @bp.post("/api/tokens")
    def make_token():
        data = request.get_json(silent=True) or {}
        label = data.get("label") if isinstance(data, dict) else None
        record, secret = credentials.issue_token(signin.accounts(), _me()["id"], label)
        return jsonify({**record, "token": secret}), 201

    @bp.delete("/api/tokens/<token_id>")
    def revoke_token(token_id: str):
        credentials.revoke_token(signin.accounts(), _me()["id"], token_id)
        signin.end_revoked_sockets()
        return "", 204

    return bp


def _me() -> dict[str, Any]:
    row = identity.current_user()
    if row is None:  # single-person mode: there is no "me"
        raise PersonaError("accounts_off", "this server has no accounts", status=404)
    return row
