"""A bare Socket.IO-over-WebSocket client on a raw socket, for tests that need many clients from
chosen local addresses (127.0.0.x) without a thread each: the upgrade, the engine.io open
packet, the namespace connect (with an optional ``auth`` payload) and its answer.

    sock, answer = socketio_connect("127.0.0.1", port, source="127.0.0.5", auth={"token": "T"})
    assert answer.startswith("40")  # joined ("44..." is a refusal)
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any

WS_PATH = "/socket.io/?EIO=4&transport=websocket"


def _frame(text: str) -> bytes:
    """One masked text frame (clients must mask)."""
    data = text.encode()
    mask = os.urandom(4)
    n = len(data)
    head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big"))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def _exact(sock: socket.socket, n: int, buf: bytearray) -> bytes:
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        buf += chunk
    out = bytes(buf[:n])
    del buf[:n]
    return out


def read_text(sock: socket.socket, buf: bytearray) -> str:
    """The next text frame from the server (unmasked, not fragmented: engine.io's packets)."""
    b0, b1 = _exact(sock, 2, buf)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(_exact(sock, 2, buf), "big")
    elif n == 127:
        n = int.from_bytes(_exact(sock, 8, buf), "big")
    payload = _exact(sock, n, buf)
    if b0 & 0x0F == 0x8:
        raise ConnectionError("the server closed the WebSocket")
    return payload.decode("utf-8", "replace")


def upgrade(
    host: str,
    port: int,
    *,
    source: str = "127.0.0.1",
    path: str = WS_PATH,
    headers: dict[str, str] | None = None,
) -> tuple[socket.socket, int, bytearray]:
    """Open the WebSocket: (socket, HTTP status, bytes already read past the answer's head)."""
    sock = socket.create_connection((host, port), timeout=30, source_address=(source, 0))
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
        ).encode()
    )
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    status = int(line.split(" ", 2)[1]) if line.startswith("HTTP/") else 0
    return sock, status, bytearray(rest)


def socketio_connect(
    host: str,
    port: int,
    *,
    source: str = "127.0.0.1",
    auth: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[socket.socket, str]:
    """Upgrade, read engine.io's open packet, join "/" (with ``auth``): (socket, the answer).
    The answer is the namespace packet ("40{...}" joined, "44{...}" refused) or "HTTP <status>"."""
    sock, status, buf = upgrade(host, port, source=source, headers=headers)
    if status != 101:
        return sock, f"HTTP {status}"
    opened = read_text(sock, buf)
    assert opened.startswith("0"), opened
    sock.sendall(_frame("40" + (json.dumps(auth) if auth else "")))
    while True:
        packet = read_text(sock, buf)
        if packet == "2":  # engine.io ping
            sock.sendall(_frame("3"))
            continue
        return sock, packet
