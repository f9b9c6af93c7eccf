"""No cross-site writes and no DNS rebinding in the default no-token mode: a foreign ``Origin`` on
a POST and a foreign ``Host`` on anything are refused 403 before Flask or engine.io answer; this
server's own addresses, IP literals and a configured allow-list pass."""

from __future__ import annotations

import pytest

from persona.settings import Settings

EVIL = "http://evil.example"


def _code(resp) -> str | None:
    body = resp.get_json(silent=True) or {}
    return (body.get("error") or {}).get("code")


@pytest.mark.parametrize(
    "path,method",
    [("/api/covers", "post"), ("/api/jobs/abc/cancel", "post"), ("/api/models/upload", "post")],
)
def test_a_post_from_another_site_is_refused(client, path, method):
    resp = getattr(client, method)(path, headers={"Origin": EVIL})
    assert resp.status_code == 403 and _code(resp) == "origin_not_allowed"
    assert resp.get_json()["error"]["params"] == {"origin": EVIL}
    for origin in ("null", "file://", "http://localhost.evil.example"):
        assert _code(getattr(client, method)(path, headers={"Origin": origin})) == "origin_not_allowed"


def test_a_delete_from_another_site_is_refused(client):
    resp = client.delete("/api/models/x", headers={"Origin": EVIL})
    assert resp.status_code == 403 and _code(resp) == "origin_not_allowed"


def test_same_origin_and_non_browser_posts_pass(client):
    # the page itself (Origin = the Host it was served from) and curl-like clients (no Origin)
    for headers in ({"Origin": "http://localhost"}, {}):
        resp = client.post("/api/jobs/abc/cancel", headers=headers)
        assert resp.status_code == 404 and _code(resp) == "job_not_found"
    resp = client.post(
        "/api/jobs/abc/cancel", headers={"Origin": "http://127.0.0.1:5000", "Host": "127.0.0.1:5000"}
    )
    assert resp.status_code == 404
    # a GET carries no write: a foreign Origin on it is the browser's CORS business
    assert client.get("/api/health", headers={"Origin": EVIL}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:5000", "127.0.0.1.evil.example"])
def test_a_foreign_host_is_refused_everywhere(client, host):
    """DNS rebinding: a page on evil.example whose name now points at 127.0.0.1."""
    for path in ("/api/health", "/api/models", "/", "/socket.io/?EIO=4&transport=polling"):
        resp = client.get(path, headers={"Host": host})
        assert resp.status_code == 403 and _code(resp) == "host_not_allowed", path
    assert client.get("/api/health", headers={"Host": host}).get_json()["error"]["params"] == {
        "host": host.split(":")[0]
    }


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:5000", "127.0.0.1:5000", "[::1]:5000", "192.168.0.7:5000", "app.localhost"],
)
def test_this_servers_addresses_are_served(client, host):
    assert client.get("/api/health", headers={"Host": host}).status_code == 200


def test_the_allow_lists_are_configurable(settings, make_client):
    s = Settings.from_env(
        {
            "PERSONA_ALLOWED_HOSTS": "persona.lan, studio.example",
            "PERSONA_ALLOWED_ORIGINS": "https://app.example",
        },
        home=settings.home,
        assets_dir=settings.assets,
    )
    assert s.allowed_hosts == ("persona.lan", "studio.example") and s.allowed_origins == (
        "https://app.example",
    )
    client = make_client(s)
    assert client.get("/api/health", headers={"Host": "persona.lan:8080"}).status_code == 200
    assert client.get("/api/health", headers={"Host": "evil.example"}).status_code == 403
    resp = client.post("/api/jobs/abc/cancel", headers={"Origin": "https://app.example"})
    assert resp.status_code == 404
    anything = make_client(allowed_hosts=("*",))
    assert anything.get("/api/health", headers={"Host": "evil.example"}).status_code == 200


def test_with_a_token_the_token_is_the_guard(settings, make_client):
    client = make_client(token="t")
    resp = client.get("/api/health", headers={"Host": "evil.example"})
    assert resp.status_code == 401  # no Host refusal in token mode: without the token nothing is read
    resp = client.get("/api/health", headers={"Host": "evil.example", "Authorization": "Bearer t"})
    assert resp.status_code == 200


def test_socketio_handshake_with_a_wrong_token_is_refused_before_engineio_answers(settings, make_client):
    """A wrong token is 401 at the door; none at all is admitted on probation (the token may
    come in the auth payload: tests/test_hostile_sockets.py), as is the cookie the page sets."""
    client = make_client(token="t")
    resp = client.get("/socket.io/?EIO=4&transport=polling&token=wrong")
    assert resp.status_code == 401 and _code(resp) == "unauthorized"
    resp = client.get("/socket.io/?EIO=4&transport=polling", headers={"Authorization": "Bearer wrong"})
    assert resp.status_code == 401
    assert client.get("/socket.io/?EIO=4&transport=polling").status_code == 200  # on probation
    ok = client.get("/socket.io/?EIO=4&transport=polling&token=t")
    assert ok.status_code == 200 and b"sid" in ok.data
    ok = client.get("/socket.io/?EIO=4&transport=polling", headers={"Authorization": "Bearer t"})
    assert ok.status_code == 200
    client.set_cookie("persona_token", "wrong")
    assert client.get("/socket.io/?EIO=4&transport=polling").status_code == 401


def test_socketio_from_this_origin_works_without_a_token(client):
    resp = client.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": "http://localhost"})
    assert resp.status_code == 200 and b"sid" in resp.data
