"""Behind the shipped nginx config (deploy/nginx/persona.conf) one web process serves 100+
Socket.IO clients (issue 24 item 4): the web process believes nginx's X-Forwarded-For
(PERSONA_TRUSTED_PROXIES, as persona.testing.cluster starts it), so the per-address socket cap
counts each browser, not nginx; a client's own X-Forwarded-For is not believed; the access log
keeps no query string (no token reaches it)."""

from __future__ import annotations

import contextlib

import pytest
import requests

from persona.testing.cluster import Cluster
from persona.testing.services import require
from persona.testing.wsclient import socketio_connect

pytestmark = pytest.mark.slow
CLIENTS = 105
ADDRESSES = 14  # 127.0.0.2-15: 7-8 clients each, within sockets_per_client (8)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    for binary in ("redis-server", "initdb", "postgres", "nginx"):
        require(binary)
    root = tmp_path_factory.mktemp("sockets")
    with Cluster(root, base_port=7040, webs=1, workers=0) as c:
        yield c


def test_one_web_process_behind_nginx_serves_over_100_socketio_clients(cluster):
    held = []
    try:
        for i in range(CLIENTS):
            sock, answer = socketio_connect(
                "127.0.0.1", cluster.nginx_port, source=f"127.0.0.{2 + i % ADDRESSES}"
            )
            held.append(sock)
            assert answer.startswith("40"), (i, answer)
        assert requests.get(cluster.url("/api/health"), timeout=30).status_code == 200
    finally:
        for sock in held:
            with contextlib.suppress(OSError):
                sock.close()


def test_the_per_address_cap_counts_the_browser_and_ignores_its_forwarded_for(cluster):
    held = []
    try:
        for i in range(8):  # sockets_per_client, each claiming another address
            sock, answer = socketio_connect(
                "127.0.0.1",
                cluster.nginx_port,
                source="127.0.0.99",
                headers={"X-Forwarded-For": f"10.0.0.{i}"},
            )
            held.append(sock)
            assert answer.startswith("40"), answer
        sock, answer = socketio_connect(
            "127.0.0.1", cluster.nginx_port, source="127.0.0.99", headers={"X-Forwarded-For": "10.0.0.200"}
        )
        held.append(sock)
        assert answer == "HTTP 429"
        sock, answer = socketio_connect("127.0.0.1", cluster.nginx_port, source="127.0.0.98")  # someone else
        held.append(sock)
        assert answer.startswith("40")
    finally:
        for sock in held:
            with contextlib.suppress(OSError):
                sock.close()


def test_the_access_log_keeps_no_query_string(cluster):
    requests.get(cluster.url("/api/health?token=secret-in-url"), timeout=30)
    log = (cluster.root / "nginx" / "persona.access.log").read_text()
    assert "/api/health" in log and "secret-in-url" not in log and "token=" not in log
