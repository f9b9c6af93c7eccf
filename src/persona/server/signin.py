"""Who is asking, decided once per request: the gate in front of every route (accounts mode).

With no account (``identity.accounts_enabled`` false) the gate is today's single-person check:
the optional ``PERSONA_TOKEN`` on ``/api/``. Once an account exists:

- A person is a **session** (the page; Flask-Login keeps the server-side session's secret in the
  signed, ``HttpOnly``, ``SameSite=Lax`` cookie, ``Secure`` over HTTPS; the row in the job
  database makes it valid in every web process and revocable) or a **personal access token**
  (``Authorization: Bearer prs_...``; ``?token=`` only on GET/HEAD, for ``<audio src>`` and
  downloads: a token in the URL of a state-changing request is refused 400 ``token_in_url``).
- A state-changing request made with the cookie must carry ``X-CSRF-Token`` (Flask-WTF's signed
  token, handed out by ``/api/session``): 403 ``csrf_failed`` otherwise.
- Every ``/api/`` route needs a person (401 ``auth_required``) except ``PUBLIC`` ones; the page's
  files are public, Socket.IO checks at connect (``persona.server.events``).

Sign-in throttling (Flask-Limiter, Redis when ``PERSONA_REDIS_URL`` is set) is applied by
``api_account`` with ``limiter(app)``. ``PERSONA_TOKEN`` does nothing in accounts mode.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms import ValidationError

from persona.accounts import credentials
from persona.accounts.store import Accounts
from persona.errors import PersonaError
from persona.server import errors, identity
from persona.server.auth import token_from, token_ok
from persona.settings import Settings

log = logging.getLogger(__name__)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# (method or "*", path): reachable without a person in accounts mode.
# Open to anyone in every mode, token or accounts: checking whether a file was made by AI
# (persona.server.api_detect) changes nothing and is the point of a public mark.
OPEN_TO_ANYONE = {("POST", "/api/detect")}
PUBLIC = {
    ("*", "/api/health"),
    ("*", "/api/openapi.json"),
    ("*", "/api/session"),
    ("*", "/api/setup"),
    *OPEN_TO_ANYONE,
}
CSRF_HEADER = "X-CSRF-Token"
# Signing in makes a new session (the old one ends), so it needs no token from the old one; the
# front door's Origin check and SameSite=Lax keep other sites from signing a browser in.
NO_CSRF = {("POST", "/api/session"), ("POST", "/api/setup"), *OPEN_TO_ANYONE}


class SessionUser(UserMixin):
    """Flask-Login's user: its id is the server-side session's secret (so Flask-Login's cookie
    entry names the session row, and deleting the row signs the browser out everywhere)."""

    def __init__(self, secret: str, row: dict[str, Any]) -> None:
        self.secret, self.row = secret, row

    def get_id(self) -> str:
        return self.secret


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, ``Secure`` whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def accounts(app: Flask | None = None) -> Accounts:
    return (app or current_app).extensions["persona_accounts"]


def public_user(row: dict[str, Any]) -> dict[str, Any]:
    return Accounts.public(row)


def install(app: Flask, settings: Settings) -> None:
    """Cookie, Flask-Login, CSRF and the gate (call before the blueprints are registered)."""
    acc = Accounts.of(settings)
    app.extensions["persona_accounts"] = acc
    app.secret_key = settings.secret_key or credentials.shared_secret(acc, "flask_secret_key")
    app.session_interface = _CookieSessions()
    app.config.update(
        SESSION_COOKIE_NAME="persona_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=int(credentials.SESSION_TTL_S),
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session (which is server-side)
        WTF_CSRF_HEADERS=[CSRF_HEADER],
    )
    login = LoginManager()
    login.session_protection = None  # the session is server-side and revocable; no IP pinning
    login.init_app(app)

    @login.user_loader
    def load(secret: str) -> SessionUser | None:
        row = credentials.session_user(acc, secret)
        return SessionUser(secret, row) if row else None

    @app.before_request
    def gate():
        identity.set_current_user(None)
        if not identity.accounts_enabled(settings):
            return _single_person(settings)
        try:
            user = who_is_asking(acc)
        except PersonaError as exc:
            if exc.code != "auth_required" or not is_public():
                raise
            user = None  # a stale token must not keep anyone from signing in or the health check
        identity.set_current_user(user)
        if user is None and not is_public():
            raise PersonaError("auth_required", "sign in first", status=401)
        return None

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return errors.error_response("csrf_failed", "the page's security token is missing or old", 403)


def _single_person(settings: Settings):
    """Today's behaviour: ``PERSONA_TOKEN`` guards ``/api/`` (the session probe excepted)."""
    if request.path == "/api/session" and request.method == "GET":
        return None
    needs = (
        settings.token
        and request.path.startswith("/api/")
        and (request.method, request.path) not in OPEN_TO_ANYONE
    )
    cookies = request.cookies if request.method in ("GET", "HEAD") else None  # never for a change
    if needs and not token_ok(settings.token, token_from(request.headers, request.args, cookies=cookies)):
        return errors.error_response("unauthorized", "this server needs its access token", 401)
    return None


def is_public() -> bool:
    path = request.path
    if not path.startswith("/api/") and path != "/api":
        return True  # the page and its files; Socket.IO checks at connect
    return ("*", path) in PUBLIC or (request.method, path) in PUBLIC


def who_is_asking(acc: Accounts, auth: Any = None) -> dict[str, Any] | None:
    """The person behind this request: a token (header, Socket.IO ``auth``, ``?token=`` on
    GET/HEAD) or the session cookie (then CSRF on unsafe methods). None if nobody."""
    if request.method in UNSAFE and "token" in request.args:
        raise PersonaError(
            "token_in_url", "send the token in the Authorization header, not in the address", status=400
        )
    header = request.headers.get("Authorization", "")
    given = token_from(request.headers, request.args, auth)
    if given is not None or header:
        row = credentials.token_user(acc, given)
        if row is None:
            raise PersonaError("auth_required", "the token is unknown or revoked", status=401)
        g.persona_credential = ("token", given)
        return row
    if not current_user.is_authenticated:
        return None
    if request.method in UNSAFE and (request.method, request.path) not in NO_CSRF:
        try:
            validate_csrf(request.headers.get(CSRF_HEADER))
        except ValidationError:
            raise PersonaError(
                "csrf_failed", "the page's security token is missing or old (reload the page)", status=403
            ) from None
    g.persona_credential = ("session", current_user.secret)
    return current_user.row


def sign_in(row: dict[str, Any]) -> str:
    """A fresh server-side session for the person (and a fresh cookie: no fixation); returns the
    CSRF token the page sends back on state-changing requests."""
    old = session.get("_user_id")
    session.clear()
    if old:
        credentials.close_session(accounts(), old)
    credentials.purge_expired(accounts())  # expired rows go now and then, here being a good time
    secret = credentials.open_session(accounts(), row["id"])
    session.permanent = True
    login_user(SessionUser(secret, row))
    identity.set_current_user(row)
    return generate_csrf()


def sign_out() -> None:
    """End this browser's session (its row goes, so every web process refuses it)."""
    secret = session.get("_user_id")
    if secret:
        credentials.close_session(accounts(), secret)
        watch = current_app.extensions.get("persona_socket_watch")
        if watch is not None:  # this process' sockets of the session go now; others' at their sweep
            watch.sweep(only_secret=secret)
    logout_user()
    session.clear()


def end_revoked_sockets() -> None:
    """Disconnect this process' sockets whose session or token just ended (a disabled person,
    a revoked token); the other web processes catch up at their next sweep."""
    watch = current_app.extensions.get("persona_socket_watch")
    if watch is not None:
        watch.sweep()


def csrf_token() -> str | None:
    """The token for this browser's session (None when the request came without one)."""
    return generate_csrf() if current_user.is_authenticated else None


def loopback_client() -> bool:
    """A request from this machine, not relayed by a proxy (which would look local too)."""
    import ipaddress

    relayed = any(request.headers.get(h) for h in ("X-Forwarded-For", "Forwarded", "X-Real-IP"))
    try:
        return not relayed and ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def socket_allowed(settings: Settings, auth: Any = None) -> bool:
    """May this Socket.IO connection open? Single-person: today's token check. Accounts mode: a
    person (session cookie, or a token in ``auth: {token}`` / the header), kept on the connection."""
    if not identity.accounts_enabled(settings):
        return token_ok(settings.token, token_from(request.headers, request.args, auth))
    try:
        user = who_is_asking(accounts(), auth)
    except PersonaError:
        return False
    if user is None:
        return False
    identity.remember_for_socket(user)
    watch = current_app.extensions.get("persona_socket_watch")
    if watch is not None and g.get("persona_credential"):
        watch.remember(request.sid, *g.persona_credential)
    return True
