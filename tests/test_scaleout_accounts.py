"""Accounts across web processes (PostgreSQL sessions and tokens, Redis-shared throttling): sign
in through one web process, act through the other; signing out or revoking there ends it here.
Two ``persona serve --no-worker`` processes on one PostgreSQL + Redis; skipped without the
servers (except in CI)."""

from __future__ import annotations

import pytest
import requests
from accounts_fixtures import GOOD, OTHER, cheap_hashes, normal_hashes

from persona.accounts.store import Accounts
from persona.testing.cluster import Cluster
from persona.testing.services import require

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    for binary in ("redis-server", "initdb", "postgres"):
        require(binary)
    root = tmp_path_factory.mktemp("scaleout-accounts")
    with Cluster(root, base_port=7150, webs=2, workers=0, nginx=False) as c:
        cheap_hashes()
        try:
            acc = Accounts.of(c.settings)
            acc.create("관리자", GOOD, admin=True)
            acc.create("Mina", OTHER)
        finally:
            normal_hashes()
        yield c


def _sign_in(cluster, i: int, name: str, password: str) -> tuple[requests.Session, str]:
    s = requests.Session()
    r = s.post(cluster.web_url(i, "/api/session"), json={"username": name, "password": password}, timeout=30)
    assert r.status_code == 200, r.text
    return s, r.json()["csrf_token"]


def test_a_session_made_on_one_web_process_works_on_the_other_and_sign_out_ends_both(cluster):
    s, csrf = _sign_in(cluster, 0, "mina", OTHER)
    assert s.get(cluster.web_url(1, "/api/me"), timeout=10).json()["username"] == "Mina"
    # A state-changing request through the other process: the same cookie key and CSRF secret.
    made = s.post(
        cluster.web_url(1, "/api/tokens"), json={"label": "web1"}, headers={"X-CSRF-Token": csrf}, timeout=10
    )
    assert made.status_code == 201, made.text
    assert (
        s.delete(cluster.web_url(1, "/api/session"), headers={"X-CSRF-Token": csrf}, timeout=10).status_code
        == 204
    )
    cookie = s.cookies.get("persona_session")
    for i in (0, 1):
        again = requests.get(
            cluster.web_url(i, "/api/me"), cookies={"persona_session": cookie or ""}, timeout=10
        )
        assert again.status_code == 401, i
    # The token made through process 1 works on 0 until it is revoked through 1.
    bearer = {"Authorization": f"Bearer {made.json()['token']}"}
    assert requests.get(cluster.web_url(0, "/api/me"), headers=bearer, timeout=10).status_code == 200
    admin_s, admin_csrf = _sign_in(cluster, 1, "mina", OTHER)
    gone = admin_s.delete(
        cluster.web_url(1, f"/api/tokens/{made.json()['id']}"),
        headers={"X-CSRF-Token": admin_csrf},
        timeout=10,
    )
    assert gone.status_code == 204
    assert requests.get(cluster.web_url(0, "/api/me"), headers=bearer, timeout=10).status_code == 401


def test_disabling_on_one_process_stops_the_person_on_the_other(cluster):
    mina, _ = _sign_in(cluster, 0, "mina", OTHER)
    admin, csrf = _sign_in(cluster, 1, "관리자", GOOD)
    people = {p["name"]: p for p in admin.get(cluster.web_url(1, "/api/admin/users"), timeout=10).json()}
    url = cluster.web_url(1, f"/api/admin/users/{people['Mina']['id']}")
    assert (
        admin.patch(url, json={"disabled": True}, headers={"X-CSRF-Token": csrf}, timeout=10).status_code
        == 200
    )
    assert mina.get(cluster.web_url(0, "/api/models"), timeout=10).status_code == 401
    assert (
        admin.patch(url, json={"disabled": False}, headers={"X-CSRF-Token": csrf}, timeout=10).status_code
        == 200
    )


def test_socketio_on_the_other_process_takes_the_session(cluster):
    import socketio

    s, _ = _sign_in(cluster, 0, "mina", OTHER)
    cookie = s.cookies.get("persona_session")
    sio = socketio.Client(reconnection=False)
    sio.connect(
        cluster.web_url(1),
        headers={"Cookie": f"persona_session={cookie}"},
        transports=["polling"],
        wait_timeout=20,
    )
    try:
        assert sio.connected
    finally:
        sio.disconnect()
    anon = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        anon.connect(cluster.web_url(1), transports=["polling"], wait_timeout=20)


def test_failed_sign_ins_are_counted_across_web_processes(cluster):
    # The default limit is 10 failures a minute per name: spread over both processes (Redis).
    codes = [
        requests.post(
            cluster.web_url(i % 2, "/api/session"),
            json={"username": "관리자", "password": "wrong wrong"},
            timeout=30,
        ).status_code
        for i in range(11)
    ]
    assert codes[:10] == [401] * 10 and codes[10] == 429
