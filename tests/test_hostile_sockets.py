"""Hostile clients against a live `persona serve` (gunicorn gthread, 64 threads): more idle
WebSockets than there are threads, with and without a token, slow headers, stalled uploads.
After each attack an ordinary (authorised) request still answers. The request timeouts below are
generous deadlines against hangs, not timing assertions."""

from __future__ import annotations

import socket

import pytest
import requests
import socketio

from persona.testing.home import live_server

TOKEN = "hostile-token"
THREADS = 64  # persona serve's default
LIMITS = {  # short limits so that the test takes seconds
    "PERSONA_SOCKET_CONNECT_S": "2",
    "PERSONA_HEADER_TIMEOUT_S": "2",
    "PERSONA_SOCKET_IDLE_S": "4",
    "PERSONA_UPLOAD_GRACE_S": "1",
    "PERSONA_UPLOAD_MIN_BYTES_PER_S": "1000000",
}
WS_PATH = "/socket.io/?EIO=4&transport=websocket"


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("tok"), token=TOKEN, env=LIMITS) as (base, _):
        yield base


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("open"), env=LIMITS) as (base, _):
        yield base


def _port(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def _connect(base: str, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(("127.0.0.1", _port(base)), timeout=30, source_address=(source, 0))


def _head(sock: socket.socket) -> str:
    """Read a response's status line and headers."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode("latin-1")


def _websocket(base: str, path: str = WS_PATH, source: str = "127.0.0.1", extra: str = "") -> tuple:
    sock = _connect(base, source)
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{_port(base)}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\n{extra}\r\n"
        ).encode()
    )
    return sock, _head(sock)


def _status(head: str) -> int:
    return int(head.split(" ", 2)[1]) if head.startswith("HTTP/") else 0


def _closed_by_server(sock: socket.socket) -> bool:
    """Read until the server closes the connection (the socket's timeout guards against hangs)."""
    try:
        while sock.recv(65536):
            pass
    except (ConnectionResetError, BrokenPipeError):
        pass
    return True


def _health(base: str, token: str | None = TOKEN) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{base}/api/health", headers=headers, timeout=60).status_code


# ---- with a token -------------------------------------------------------------------------------------
def test_unauthenticated_sockets_are_bounded_and_closed(token_server):
    """Handshakes without a token are admitted on probation (the token may come in Socket.IO's
    auth payload): a bounded few per address, closed unless they join; a wrong token is 401."""
    base = token_server
    hostile = [_websocket(base) for _ in range(THREADS + 1)]
    codes = [_status(head) for _, head in hostile]
    assert set(codes) <= {101, 429, 503} and codes.count(101) <= 8  # sockets_per_client
    assert all(_closed_by_server(sock) for sock, _ in hostile)  # nothing left open to hold a thread
    wrong, head = _websocket(base, WS_PATH + "&token=wrong")
    assert _status(head) == 401
    wrong_header, head = _websocket(base, extra="Authorization: Bearer wrong\r\n")
    assert _status(head) == 401
    for sock, _ in hostile:
        sock.close()
    assert _health(base) == 200


def test_the_token_in_the_auth_payload_is_accepted(token_server):
    """The documented `auth: {token}` (no header, no query): connected; a wrong one is refused
    and its transport closed."""
    from persona.testing.wsclient import socketio_connect

    port = int(token_server.rsplit(":", 1)[1])
    sock, answer = socketio_connect("127.0.0.1", port, auth={"token": TOKEN})
    assert answer.startswith("40{") and '"sid"' in answer
    sock.close()
    sock, answer = socketio_connect("127.0.0.1", port, auth={"token": "wrong"})
    assert answer.startswith("44")  # CONNECT_ERROR
    assert _closed_by_server(sock)
    sock.close()
    # the page's way: polling first, then the upgrade, the token only in the auth payload
    client = socketio.Client(reconnection=False)
    client.connect(token_server, transports=["polling", "websocket"], auth={"token": TOKEN}, wait_timeout=30)
    try:
        assert client.call("subscribe", {"job_id": "*"}, timeout=30) == {"ok": True}
    finally:
        client.disconnect()


def test_authorised_sockets_that_never_join_are_closed_and_counted_per_address(token_server):
    base = token_server
    held = []
    for _ in range(8):  # sockets_per_client
        sock, head = _websocket(base, WS_PATH + f"&token={TOKEN}")
        assert _status(head) == 101
        held.append(sock)
    extra, head = _websocket(base, WS_PATH + f"&token={TOKEN}")
    assert _status(head) == 429 and '"too_many_connections"' in _head_body(extra, head)
    assert _health(base) == 200
    # none of them joins a namespace: the server closes every one (socket_connect_s)
    assert all(_closed_by_server(sock) for sock in held)
    sock, head = _websocket(base, WS_PATH + f"&token={TOKEN}")  # the address's slots came back
    assert _status(head) == 101
    sock.close()


def _head_body(sock: socket.socket, head: str) -> str:
    body = head.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in head else ""
    try:
        while chunk := sock.recv(4096):
            body += chunk.decode("utf-8", "replace")
    except OSError:
        pass
    return body


# ---- without a token ------------------------------------------------------------------------------------
def test_idle_sockets_from_many_addresses_leave_threads_for_everyone(open_server):
    """N+1 WebSockets from 9 addresses (engine.io accepts them: no token is needed here): the
    per-address and total caps refuse the excess, a request still answers, and every idle
    session is closed once it has not joined a namespace in time."""
    base = open_server
    results = [_websocket(base, source=f"127.0.0.{2 + i % 9}") for i in range(THREADS + 1)]
    codes = [_status(head) for _, head in results]
    accepted = [sock for (sock, _), code in zip(results, codes, strict=True) if code == 101]
    assert set(codes) <= {101, 429, 503} and len(accepted) <= THREADS - THREADS // 4
    assert 429 in codes or 503 in codes
    assert _health(base, None) == 200
    assert all(_closed_by_server(sock) for sock in accepted)
    for sock, _ in results:
        sock.close()
    assert _health(base, None) == 200


def test_slow_headers_are_cut(open_server):
    base = open_server
    slow = []
    for i in range(THREADS + 1):  # from 127.0.0.2-5: each keeps pending_per_client (32) waiting at most
        sock = _connect(base, f"127.0.0.{2 + i % 4}")
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # and never the rest
        slow.append(sock)
    assert _health(base, None) == 200
    assert all(_closed_by_server(sock) for sock in slow)
    for sock in slow:
        sock.close()


def test_stalled_uploads_are_cut(open_server):
    base = open_server
    stalled = []
    for _ in range(THREADS + 1):
        sock = _connect(base)
        sock.sendall(
            (
                b"POST /api/models/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 1000000\r\n\r\n"
                b'--x\r\nContent-Disposition: form-data; name="file"; filename="m.zip"\r\n\r\n'
            )
            + b"\0" * 1024
        )
        stalled.append(sock)
    assert _health(base, None) == 200
    for sock in stalled:
        head = _head(sock)
        # cut (an answer or a closed socket), or refused: this address has uploads_per_client going
        assert head == "" or _status(head) in (400, 408, 429), head
        assert _closed_by_server(sock)
        sock.close()
    assert _health(base, None) == 200


def test_a_slow_but_steady_upload_is_not_cut(open_server):
    """An upload that keeps the minimum pace (here 1 MB/s after a 1 s grace) is served."""
    base = open_server
    r = requests.post(
        f"{base}/api/models/upload", files={"file": ("m.zip", b"PK" + b"\0" * 200_000)}, timeout=60
    )
    assert r.status_code == 400 and r.json()["error"]["code"] != "request_too_slow"
