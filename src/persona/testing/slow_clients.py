"""Slow-client attacks on a live server, for tests and ``benchmarks/bench_slow_clients.py``.

``SlowHeaders``: connections that send a request's headers one line every ``every_s`` seconds,
never finishing (no token needed: the token is in headers they never send). ``SlowUploads``:
legal uploads (``Content-Length`` announced, the body sent at ``rate`` bytes/s). Attackers
come from ``sources`` addresses 127.0.0.2, 127.0.0.3, ... (all local); 127.0.0.1 stays the
honest client's. Both run on one background thread with
non-blocking sockets, so the attacker costs little CPU; a connection the server closes is
counted in ``closed`` and opened again (the attack keeps its pressure).

``health_latencies(url, headers, seconds)`` polls an authorised request and returns its
latencies (None for a failure or a timeout): what an honest client sees meanwhile.

    with SlowHeaders("127.0.0.1", port, n=150):
        lat = health_latencies(f"{base}/api/health", {"Authorization": "Bearer T"}, 20)
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import requests


class _Attack:
    """n connections, each advanced by ``step(i, sock)`` every ``every_s`` seconds."""

    def __init__(self, host: str, port: int, n: int, every_s: float, sources: int = 1) -> None:
        self.host, self.port, self.n, self.every_s = host, port, n, every_s
        self.sources = max(1, sources)
        self.socks: list[socket.socket | None] = [None] * n
        self.sent: list[int] = [0] * n
        self.closed = 0  # connections the server ended (refused, cut or answered)
        self.opened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=type(self).__name__)

    def source(self, i: int) -> str:
        return f"127.0.0.{2 + i % self.sources}"  # never 127.0.0.1: that is the honest client's

    def _open(self, i: int) -> None:
        try:
            sock = socket.create_connection(
                (self.host, self.port), timeout=5, source_address=(self.source(i), 0)
            )
        except OSError:
            self.socks[i] = None
            return
        sock.setblocking(False)
        self.socks[i], self.sent[i] = sock, 0
        self.opened += 1
        self._send(i, self.first(i))

    def _send(self, i: int, data: bytes) -> None:
        sock = self.socks[i]
        if sock is None or not data:
            return
        try:
            sock.send(data)  # small pieces: the kernel's buffer takes them, or the server is gone
            self.sent[i] += len(data)
            if sock.recv(65536) == b"":
                raise ConnectionResetError
        except BlockingIOError:
            pass
        except OSError:
            self._drop(i)

    def _drop(self, i: int) -> None:
        sock = self.socks[i]
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
            self.closed += 1
        self.socks[i] = None

    def _run(self) -> None:
        for i in range(self.n):
            if self._stop.is_set():
                return
            self._open(i)
        while not self._stop.wait(self.every_s):
            for i in range(self.n):
                if self.socks[i] is None:
                    self._open(i)
                else:
                    self._send(i, self.step(i))

    def first(self, i: int) -> bytes:
        raise NotImplementedError

    def step(self, i: int) -> bytes:
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(30)
        for i in range(self.n):
            self._drop(i)

    @property
    def open_now(self) -> int:
        return sum(s is not None for s in self.socks)


class SlowHeaders(_Attack):
    """Requests whose headers come one line every ``every_s`` (default 2 s) and never end."""

    def __init__(self, host: str, port: int, n: int = 150, every_s: float = 2.0, sources: int = 1) -> None:
        super().__init__(host, port, n, every_s, sources)

    def first(self, i: int) -> bytes:
        return f"GET /api/health HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n".encode()

    def step(self, i: int) -> bytes:
        return f"X-Slow-{self.sent[i]}: {'a' * 8}\r\n".encode()


class SlowUploads(_Attack):
    """Model uploads of ``size`` bytes sent at ``rate`` bytes/s each (legal: above the minimum pace)."""

    def __init__(
        self,
        host: str,
        port: int,
        n: int = 70,
        rate: int = 20 * 1024,
        size: int = 50 * 1024 * 1024,
        token: str | None = None,
        sources: int = 1,
        tick_s: float = 0.25,
    ) -> None:
        super().__init__(host, port, n, tick_s, sources)
        self.rate, self.size, self.token = rate, size, token

    def first(self, i: int) -> bytes:
        auth = f"Authorization: Bearer {self.token}\r\n" if self.token else ""
        head = (
            f"POST /api/models/upload HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{auth}"
            f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {self.size}\r\n\r\n"
            '--x\r\nContent-Disposition: form-data; name="file"; filename="slow.zip"\r\n\r\n'
        )
        return head.encode()

    def step(self, i: int) -> bytes:
        return b"\0" * int(self.rate * self.every_s)


def health_latencies(
    url: str,
    headers: dict[str, str] | None = None,
    seconds: float = 20.0,
    every_s: float = 0.25,
    timeout: float = 10.0,
) -> list[float | None]:
    """Poll ``url`` for ``seconds``: each request's latency in seconds, None if it failed or timed out."""
    out: list[float | None] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            ok = requests.get(url, headers=headers or {}, timeout=timeout).status_code == 200
        except requests.RequestException:
            ok = False
        out.append(time.monotonic() - t0 if ok else None)
        time.sleep(max(0.0, every_s - (time.monotonic() - t0)))
    return out


def summary(latencies: list[float | None]) -> dict[str, float | int]:
    """p50/p95/max in ms (a failed or timed-out request counts as infinitely slow), and how many failed."""
    done = sorted(float("inf") if x is None else x for x in latencies)
    failed = sum(x is None for x in latencies)

    def pct(p: float) -> float:
        if not done:
            return float("nan")
        return done[min(len(done) - 1, int(p * (len(done) - 1) + 0.5))] * 1000

    return {
        "n": len(latencies),
        "failed": failed,
        "p50_ms": pct(0.5),
        "p95_ms": pct(0.95),
        "max_ms": pct(1.0),
    }
