"""Accounts mode over HTTP: the gate, sign-in, sessions, CSRF, throttling, tokens, admin routes.

The single-person default is covered by the existing server tests (they run with no account).
"""

from __future__ import annotations

import logging

import pytest
from accounts_fixtures import GOOD, OTHER, add_people, cheap_hashes, normal_hashes, sign_in

from persona.accounts import passwords
from persona.accounts.store import Accounts

GUARDED = [
    "/api/models",
    "/api/jobs",
    "/api/covers",
    "/api/assets",
    "/api/me",
    "/api/tokens",
    "/api/admin/users",
]


@pytest.fixture(autouse=True)
def _cheap():
    cheap_hashes()
    yield
    normal_hashes()


@pytest.fixture
def people(settings):
    return add_people(settings)


@pytest.fixture
def app(settings, people, make_app):
    return make_app(signin_per_account="4/minute", signin_per_address="8/minute", jobs_need_assets=False)


@pytest.fixture
def client(app):
    return app.test_client()


def _code(r) -> str:
    return r.get_json()["error"]["code"]


def test_single_person_mode_needs_no_one(settings, make_client):
    client = make_client()
    assert client.get("/api/models").status_code == 200
    probe = client.get("/api/session").get_json()
    assert probe["accounts"] is False and probe["setup"] is True and probe["user"] is None
    assert "persona_session" not in (client.get_cookie("persona_session") or "")


def test_nothing_is_reached_without_a_person(client):
    for url in GUARDED:
        r = client.get(url)
        assert (r.status_code, _code(r)) == (401, "auth_required"), url
    for method, url in (("post", "/api/covers"), ("post", "/api/trainings"), ("delete", "/api/models/x")):
        assert getattr(client, method)(url).status_code == 401, url
    for url in ("/api/health", "/api/openapi.json", "/api/session", "/"):
        assert client.get(url).status_code == 200, url


def test_sign_in_sets_a_guarded_cookie_and_signs_out(client):
    r = client.post("/api/session", json={"username": "mina", "password": OTHER})
    assert r.status_code == 200
    assert r.get_json()["user"]["username"] == "Mina"
    csrf = r.get_json()["csrf_token"]
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    me = client.get("/api/me").get_json()
    assert me["username"] == "Mina" and me["admin"] is False and "usage" in me and "quota" in me
    assert client.get("/api/models").status_code == 200
    assert client.delete("/api/session").status_code == 403  # signing out is a change: CSRF too
    stale = {"Authorization": "Bearer prs_stale", "X-CSRF-Token": "forged"}
    assert client.delete("/api/session", headers=stale).status_code == 204  # nothing checked, nothing ended
    assert client.get("/api/me").status_code == 200  # still signed in
    assert client.delete("/api/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/me").status_code == 401


def test_cookie_is_secure_over_https(app):
    client = app.test_client()
    r = client.post(
        "/api/session", json={"username": "mina", "password": OTHER}, base_url="https://localhost"
    )
    assert "Secure" in r.headers["Set-Cookie"]


def test_unknown_name_and_wrong_password_look_the_same(client, monkeypatch):
    verified = []
    real = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password", lambda s, p: verified.append(s is None) or real(s, p))
    unknown = client.post("/api/session", json={"username": "nobody", "password": OTHER})
    wrong = client.post("/api/session", json={"username": "mina", "password": "not her password"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json()
    assert _code(wrong) == "sign_in_failed"
    assert verified == [True, False]  # one argon2 verification each (a dummy hash for the unknown name)


def test_a_disabled_person_is_refused_like_a_wrong_password(client, settings, people):
    Accounts.of(settings).change(people["mina"]["id"], disabled=True)
    r = client.post("/api/session", json={"username": "mina", "password": OTHER})
    assert (r.status_code, _code(r)) == (401, "sign_in_failed")


def test_session_fixation_a_new_session_on_every_sign_in(app, settings):
    client = app.test_client()
    sign_in(client, "mina", OTHER)
    with client.session_transaction() as sess:
        first = sess["_user_id"]
    planted = client.get_cookie("persona_session").value
    sign_in(client, "mina", OTHER)
    with client.session_transaction() as sess:
        second = sess["_user_id"]
    assert first != second
    other = app.test_client()
    other.set_cookie("persona_session", planted)
    assert other.get("/api/me").status_code == 401  # the earlier session ended with the new sign-in


def test_csrf_is_required_with_the_cookie(client):
    csrf = sign_in(client, "mina", OTHER)
    r = client.post("/api/tokens", json={"label": "x"})
    assert (r.status_code, _code(r)) == (403, "csrf_failed")
    r = client.post("/api/tokens", json={"label": "x"}, headers={"X-CSRF-Token": "forged"})
    assert (r.status_code, _code(r)) == (403, "csrf_failed")
    r = client.post("/api/tokens", json={"label": "x"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201


def test_sign_in_is_throttled_per_account_and_per_address(client):
    for _ in range(4):
        assert (
            client.post("/api/session", json={"username": "mina", "password": "wrong one"}).status_code == 401
        )
    r = client.post("/api/session", json={"username": "mina", "password": OTHER})
    assert (r.status_code, _code(r)) == (429, "too_many_attempts")
    # Another name from the same address still may, until the address' own limit.
    for _ in range(4):
        client.post("/api/session", json={"username": "someone", "password": "wrong one"})
    r = client.post("/api/session", json={"username": "관리자", "password": GOOD})
    assert (r.status_code, _code(r)) == (429, "too_many_attempts")


def test_successful_sign_ins_are_not_counted(client):
    for _ in range(6):
        sign_in(client, "mina", OTHER)


def test_tokens_shown_once_used_listed_and_revoked(client):
    csrf = sign_in(client, "mina", OTHER)
    made = client.post("/api/tokens", json={"label": "노트북"}, headers={"X-CSRF-Token": csrf}).get_json()
    secret = made["token"]
    assert secret.startswith("prs_") and made["label"] == "노트북"
    listed = client.get("/api/tokens").get_json()
    assert [t["id"] for t in listed] == [made["id"]] and all("token" not in t for t in listed)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.application.test_client().get("/api/me", headers=bearer).get_json()["username"] == "Mina"
    # A token request needs no CSRF header (a browser never sends it by itself).
    anon = client.application.test_client()
    assert anon.post("/api/tokens", json={}, headers=bearer).status_code == 201
    assert client.get("/api/tokens").get_json()[0]["last_used_at"] is not None
    assert client.delete(f"/api/tokens/{made['id']}", headers={"X-CSRF-Token": csrf}).status_code == 204
    r = anon.get("/api/me", headers=bearer)
    assert (r.status_code, _code(r)) == (401, "auth_required")
    r = client.delete("/api/tokens/nope", headers={"X-CSRF-Token": csrf})
    assert (r.status_code, _code(r)) == (404, "token_not_found")


def test_token_in_the_url_only_for_reading(client, settings, people):
    from persona.accounts import credentials

    _, secret = credentials.issue_token(Accounts.of(settings), people["mina"]["id"])
    anon = client.application.test_client()
    assert anon.get(f"/api/models?token={secret}").status_code == 200
    r = anon.post(f"/api/tokens?token={secret}", json={})
    assert (r.status_code, _code(r)) == (400, "token_in_url")
    assert anon.get("/api/models?token=prs_forged").status_code == 401


def test_a_person_disabled_mid_session_is_stopped_at_the_next_request(client, settings, people):
    from persona.accounts import credentials

    sign_in(client, "mina", OTHER)
    _, secret = credentials.issue_token(Accounts.of(settings), people["mina"]["id"])
    assert client.get("/api/models").status_code == 200
    admin = client.application.test_client()
    csrf = sign_in(admin, "관리자", GOOD)
    r = admin.patch(
        f"/api/admin/users/{people['mina']['id']}", json={"disabled": True}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 200 and r.get_json()["disabled"] is True
    assert client.get("/api/models").status_code == 401
    anon = client.application.test_client()
    assert anon.get("/api/models", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"username": "", "password": "x"}, "name_invalid"),
        ({"username": "a" * 200, "password": "x"}, "name_invalid"),
        ({"username": "mi\x00na", "password": "x"}, "name_invalid"),
        ({"username": "mina", "password": ""}, "password_invalid"),
        ({"username": "mina", "password": "x" * 1000}, "password_invalid"),
        ({"username": "mina", "password": "a\x1bb"}, "password_invalid"),
        ({"username": 5, "password": None}, "name_invalid"),
        ([], "body_invalid"),
    ],
)
def test_bad_sign_in_input_is_a_400_with_a_code(client, body, code):
    r = client.post("/api/session", json=body)
    assert (r.status_code, _code(r)) == (400, code)


def test_admin_routes_are_for_admins(client, people):
    csrf = sign_in(client, "mina", OTHER)
    r = client.get("/api/admin/users")
    assert (r.status_code, _code(r)) == (403, "admin_required")
    r = client.delete(f"/api/admin/users/{people['admin']['id']}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403


def test_admin_manages_people(client, people):
    csrf = sign_in(client, "관리자", GOOD)
    h = {"X-CSRF-Token": csrf}
    r = client.post("/api/admin/users", json={"username": "Jun", "password": "short"}, headers=h)
    assert (r.status_code, _code(r), r.get_json()["error"]["params"]["reason"]) == (
        400,
        "password_weak",
        "too_short",
    )
    r = client.post("/api/admin/users", json={"username": "Jun", "password": OTHER, "quota_gb": 2}, headers=h)
    assert r.status_code == 201
    jun = r.get_json()
    assert jun["quota_bytes"] == 2_000_000_000 and jun["admin"] is False
    r = client.post("/api/admin/users", json={"username": "jun", "password": OTHER}, headers=h)
    assert (r.status_code, _code(r)) == (409, "user_exists")
    names = [p["name"] for p in client.get("/api/admin/users").get_json()]
    assert sorted(names) == sorted(["관리자", "Mina", "Jun"])
    r = client.patch(f"/api/admin/users/{people['admin']['id']}", json={"admin": False}, headers=h)
    assert (r.status_code, _code(r)) == (409, "last_admin")
    assert client.delete(f"/api/admin/users/{jun['id']}", headers=h).status_code == 204
    r = client.get(f"/api/admin/users/{jun['id']}")
    assert (r.status_code, _code(r)) == (404, "user_not_found")
    assert client.get("/api/admin/jobs").status_code == 200


def test_leaving_needs_the_password_and_ends_everything(client, settings):
    csrf = sign_in(client, "mina", OTHER)
    h = {"X-CSRF-Token": csrf}
    r = client.delete("/api/me", json={"password": "not mine at all"}, headers=h)
    assert (r.status_code, _code(r)) == (403, "password_wrong")
    assert client.delete("/api/me", json={"password": OTHER}, headers=h).status_code == 204
    assert client.get("/api/me").status_code == 401
    assert Accounts.of(settings).find("mina") is None


def test_first_admin_from_this_machine_only(settings, make_client):
    client = make_client()
    creds = {"username": "Owner", "password": GOOD}
    r = client.post("/api/setup", json=creds, headers={"X-Forwarded-For": "203.0.113.9"})
    assert (r.status_code, _code(r)) == (403, "setup_loopback_only")
    r = client.post("/api/setup", json=creds, environ_base={"REMOTE_ADDR": "192.168.1.20"})
    assert (r.status_code, _code(r)) == (403, "setup_loopback_only")
    r = client.post("/api/setup", json=creds)
    assert r.status_code == 201 and r.get_json()["user"]["admin"] is True
    assert client.get("/api/me").get_json()["username"] == "Owner"
    r = client.application.test_client().post("/api/setup", json={"username": "Eve", "password": OTHER})
    assert (r.status_code, _code(r)) == (403, "setup_closed")
    assert client.application.test_client().get("/api/models").status_code == 401  # accounts are on now


def test_socketio_needs_a_person(app, settings, people):
    from persona.accounts import credentials

    socketio = app.extensions["socketio"]
    anon = socketio.test_client(app, flask_test_client=app.test_client())
    assert not anon.is_connected()
    _, secret = credentials.issue_token(Accounts.of(settings), people["mina"]["id"])
    assert socketio.test_client(app, auth={"token": secret}).is_connected()
    assert not socketio.test_client(app, auth={"token": "prs_forged"}).is_connected()
    browser = app.test_client()
    sign_in(browser, "mina", OTHER)
    by_cookie = socketio.test_client(app, flask_test_client=browser)
    assert by_cookie.is_connected()


def test_passwords_and_tokens_never_reach_the_log(client, caplog):
    caplog.set_level(logging.DEBUG)
    csrf = sign_in(client, "mina", OTHER)
    client.post("/api/session", json={"username": "mina", "password": "a wrong secret pw"})
    secret = client.post("/api/tokens", json={}, headers={"X-CSRF-Token": csrf}).get_json()["token"]
    client.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
    text = caplog.text
    assert OTHER not in text and "a wrong secret pw" not in text and secret not in text


def test_live_sockets_end_with_their_session_or_token(app, settings, people):
    from persona.accounts import credentials

    socketio = app.extensions["socketio"]
    browser = app.test_client()
    csrf = sign_in(browser, "mina", OTHER)
    by_cookie = socketio.test_client(app, flask_test_client=browser)
    record, secret = credentials.issue_token(Accounts.of(settings), people["mina"]["id"])
    by_token = socketio.test_client(app, auth={"token": secret})
    assert by_cookie.is_connected() and by_token.is_connected()
    assert browser.delete("/api/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert not by_cookie.is_connected() and by_token.is_connected()
    credentials.revoke_token(Accounts.of(settings), people["mina"]["id"], record["id"])  # e.g. by the CLI
    assert app.extensions["persona_socket_watch"].sweep()  # the periodic check
    assert not by_token.is_connected()


def test_a_disabled_person_loses_their_live_socket(app, settings, people):
    socketio = app.extensions["socketio"]
    browser = app.test_client()
    sign_in(browser, "mina", OTHER)
    live = socketio.test_client(app, flask_test_client=browser)
    admin = app.test_client()
    csrf = sign_in(admin, "관리자", GOOD)
    url = f"/api/admin/users/{people['mina']['id']}"
    assert admin.patch(url, json={"disabled": True}, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert not live.is_connected()


def test_every_api_route_needs_a_person(app, client):
    """Generated from the app's own routes: a new route is covered without anyone listing it."""
    from persona.server.signin import PUBLIC

    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", "x").replace(f"<path:{arg}>", "x")
            path = path.replace(f"<int:{arg}>", "1")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if ("*", rule.rule) in PUBLIC or (method, rule.rule) in PUBLIC:
                continue
            r = client.open(path, method=method)
            assert (r.status_code, _code(r)) == (401, "auth_required"), (method, path)
            checked += 1
    assert checked > 30


def test_a_stale_token_does_not_block_signing_in_or_health(client):
    stale = {"Authorization": "Bearer the-old-single-person-token"}
    assert client.get("/api/health", headers=stale).status_code == 200
    r = client.post("/api/session", json={"username": "mina", "password": OTHER}, headers=stale)
    assert r.status_code == 200
    r = client.get("/api/models", headers=stale)
    assert (r.status_code, _code(r)) == (401, "auth_required")  # a wrong token is never ignored


def test_current_owner_in_requests_and_socket_handlers(app, settings, people):
    """The contract the ownership checks build on: the signed-in person's id, wherever asked."""
    from persona.accounts import credentials
    from persona.server.identity import current_owner

    socketio = app.extensions["socketio"]
    socketio.on_event("whoami", lambda data=None: {"owner": current_owner()})
    _, secret = credentials.issue_token(Accounts.of(settings), people["mina"]["id"])
    sock = socketio.test_client(app, auth={"token": secret})
    assert sock.emit("whoami", {}, callback=True) == {"owner": people["mina"]["id"]}
    browser = app.test_client()
    sign_in(browser, "관리자", GOOD)
    by_cookie = socketio.test_client(app, flask_test_client=browser)
    assert by_cookie.emit("whoami", {}, callback=True) == {"owner": people["admin"]["id"]}
    with app.test_request_context("/api/models", headers={"Authorization": f"Bearer {secret}"}):
        app.preprocess_request()
        assert current_owner() == people["mina"]["id"]


def test_current_owner_is_none_in_single_person_mode(settings, make_app):
    from persona.server.identity import current_owner

    app = make_app()
    with app.test_request_context("/api/models"):
        app.preprocess_request()
        assert current_owner() is None
    socketio = app.extensions["socketio"]
    socketio.on_event("whoami", lambda data=None: {"owner": current_owner()})
    assert socketio.test_client(app).emit("whoami", {}, callback=True) == {"owner": None}


# ---- changing one's own password -------------------------------------------------------------------
NEW = "quiet lantern orchard 7 river"


def _change(client, csrf, current, new, headers=None):
    body = {"current_password": current, "new_password": new}
    headers = {**(headers or {}), **({"X-CSRF-Token": csrf} if csrf else {})}
    return client.post("/api/me/password", json=body, headers=headers)


def test_changing_my_password_needs_the_current_one_and_a_strong_new_one(client, settings):
    csrf = sign_in(client, "mina", OTHER)
    r = _change(client, csrf, "not my password at all", NEW)
    assert (r.status_code, _code(r)) == (403, "password_wrong")
    r = _change(client, csrf, OTHER, "short")
    assert (r.status_code, _code(r), r.get_json()["error"]["params"]["reason"]) == (
        400,
        "password_weak",
        "too_short",
    )
    r = _change(client, csrf, OTHER, "password1234")
    assert (r.status_code, _code(r)) == (400, "password_weak")
    r = _change(client, csrf, OTHER, "Mina is my name 2024")
    assert r.get_json()["error"]["params"]["reason"] == "contains_name"
    r = client.post("/api/me/password", json=[], headers={"X-CSRF-Token": csrf})
    assert (r.status_code, _code(r)) == (400, "body_invalid")
    r = _change(client, csrf, OTHER, "")
    assert (r.status_code, _code(r)) == (400, "password_invalid")
    assert client.get("/api/me").status_code == 200  # nothing refused ended the session
    assert Accounts.of(settings).authenticate("mina", OTHER) is not None  # nor changed the password


def test_changing_my_password_ends_my_other_sessions_but_not_this_one_nor_tokens(app, settings, people):
    from persona.accounts import credentials

    here, laptop = app.test_client(), app.test_client()
    csrf = sign_in(here, "mina", OTHER)
    sign_in(laptop, "mina", OTHER)
    admin = app.test_client()
    sign_in(admin, "관리자", GOOD)
    _, secret = credentials.issue_token(Accounts.of(settings), people["mina"]["id"])
    socketio = app.extensions["socketio"]
    laptop_socket = socketio.test_client(app, flask_test_client=laptop)
    assert laptop_socket.is_connected()
    with here.session_transaction() as sess:
        before = sess["_user_id"]
    r = _change(here, csrf, OTHER, NEW)
    assert r.status_code == 200, r.get_json()
    fresh = r.get_json()["csrf_token"]
    assert r.get_json()["user"]["username"] == "Mina" and fresh
    with here.session_transaction() as sess:
        assert sess["_user_id"] != before  # rotated: a fresh session id, as after signing in
    assert here.get("/api/me").status_code == 200  # this browser stays signed in
    assert here.post("/api/tokens", json={}, headers={"X-CSRF-Token": fresh}).status_code == 201
    assert laptop.get("/api/me").status_code == 401  # the other session ended
    assert not laptop_socket.is_connected()  # and its live socket
    stolen = app.test_client()
    stolen.set_cookie("persona_session", "x")
    with stolen.session_transaction() as sess:
        sess["_user_id"] = before
    assert stolen.get("/api/me").status_code == 401  # the old session id is dead everywhere
    assert admin.get("/api/me").status_code == 200  # another person's session is untouched
    bearer = {"Authorization": f"Bearer {secret}"}
    assert app.test_client().get("/api/me", headers=bearer).status_code == 200  # tokens stay
    r = app.test_client().post("/api/session", json={"username": "mina", "password": OTHER})
    assert (r.status_code, _code(r)) == (401, "sign_in_failed")
    sign_in(app.test_client(), "mina", NEW)


def test_changing_my_password_by_token_ends_every_session(app, settings, people):
    from persona.accounts import credentials

    browser = app.test_client()
    sign_in(browser, "mina", OTHER)
    _, secret = credentials.issue_token(Accounts.of(settings), people["mina"]["id"])
    script = app.test_client()
    r = _change(script, None, OTHER, NEW, headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200 and r.get_json()["csrf_token"] is None
    assert script.get_cookie("persona_session") is None  # a token request gets no session
    assert browser.get("/api/me").status_code == 401


def test_changing_my_password_needs_csrf_and_a_person(client):
    r = _change(client, None, OTHER, NEW)
    assert (r.status_code, _code(r)) == (401, "auth_required")
    csrf = sign_in(client, "mina", OTHER)
    r = _change(client, None, OTHER, NEW)
    assert (r.status_code, _code(r)) == (403, "csrf_failed")
    r = _change(client, "forged", OTHER, NEW)
    assert (r.status_code, _code(r)) == (403, "csrf_failed")
    assert client.post("/api/session", json={"username": "mina", "password": NEW}).status_code == 401
    assert _change(client, csrf, OTHER, NEW).status_code == 200


def test_wrong_current_passwords_are_throttled_with_sign_in(client):
    """The same per-account bucket as sign-in (limit 4/minute here): guesses through the change
    form and the sign-in form add up, and the right password is refused too once it is full."""
    csrf = sign_in(client, "mina", OTHER)
    for _ in range(2):
        assert (
            client.post("/api/session", json={"username": "mina", "password": "wrong one"}).status_code == 401
        )
    for _ in range(2):
        assert _change(client, csrf, "still wrong", NEW).status_code == 403
    r = _change(client, csrf, OTHER, NEW)
    assert (r.status_code, _code(r)) == (429, "too_many_attempts")
    r = client.post("/api/session", json={"username": "mina", "password": OTHER})
    assert (r.status_code, _code(r)) == (429, "too_many_attempts")
    assert client.get("/api/me").status_code == 200  # still signed in; nothing changed


def test_weak_new_passwords_are_not_counted_as_failures(client):
    csrf = sign_in(client, "mina", OTHER)
    for _ in range(6):
        assert _change(client, csrf, OTHER, "short").status_code == 400
    assert _change(client, csrf, OTHER, NEW).status_code == 200
