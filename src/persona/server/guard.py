"""The front door: what every request passes before Flask or engine.io sees it, and the gunicorn
worker that keeps slow clients from holding its threads.

Why here and not in Flask: engine.io (Socket.IO's transport) answers ``/socket.io/`` before any
Flask hook runs, and each open WebSocket or long-poll holds one of gunicorn's ``threads``. So
the WSGI middleware ``FrontDoor`` (outermost, in front of Flask-SocketIO's own) does, in order:

1. Host and Origin (no-token mode only; with a token the token is the guard): a ``Host`` that is
   not this server's (DNS rebinding) is refused 403 ``host_not_allowed``; an unsafe method
   (POST, PUT, PATCH, DELETE) whose ``Origin`` is another site is refused 403
   ``origin_not_allowed``. Allowed: IP literals, ``localhost``, the served and the machine's own
   names, and ``Settings.allowed_hosts`` / ``allowed_origins`` (``PERSONA_ALLOWED_HOSTS`` /
   ``PERSONA_ALLOWED_ORIGINS``, comma-separated, ``*`` for any).
2. Socket.IO handshakes carry the token (``?token=`` or ``Authorization: Bearer``) when one is
   set; without it they are answered 401 at once, so no engine.io session exists to hold.
3. Long-lived Socket.IO requests (WebSockets, long-polls) are counted: at most
   ``sockets_per_client`` per client address (429 ``too_many_connections``) and at most
   ``threads - reserve`` in all (503 ``server_busy``), so ordinary requests always find a thread.
4. A request body must arrive at ``upload_min_bytes_per_s`` after ``upload_grace_s``; a slower
   upload is cut (408 ``request_too_slow`` when the app reads it).

``GuardedThreadWorker`` (gunicorn's ``gthread`` worker) hands every connection a
``DeadlineSocket``: a request's headers must arrive within ``header_timeout_s`` and no read or
write waits longer than ``socket_idle_s`` (engine.io pings every 20 s, so a live WebSocket is
never idle that long). ``reap_idle_sessions`` closes engine.io sessions that never join a
namespace (or were refused) within ``socket_connect_s``.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from persona.errors import PersonaError
from persona.server.auth import token_from, token_ok
from persona.settings import Settings

log = logging.getLogger(__name__)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SOCKET_PATH = "/socket.io"
MAX_LINGERING = 64


class RequestTooSlow(OSError):
    """A client sent its request (headers or body) slower than the limits allow. Its errno is
    ENOTCONN so that gunicorn closes the connection quietly (a slow client is not a server error)."""

    def __init__(self, what: str) -> None:
        super().__init__(errno.ENOTCONN, f"{what} arrived too slowly")


# ---- sockets with deadlines ---------------------------------------------------------------------
class DeadlineSocket(socket.socket):
    """A client socket whose blocking reads and writes never wait past ``idle_s``, nor past
    ``deadline`` (monotonic seconds, None: none) when one is set."""

    idle_s: float = 60.0
    deadline: float | None = None
    what: str = "the request"
    linger_s: float = 0.5  # how long a graceful close drains the client (see GuardedThreadWorker)
    cut: bool = False  # refused for slowness: closed without lingering

    @classmethod
    def adopt(cls, sock: socket.socket, idle_s: float) -> DeadlineSocket:
        new = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        new.idle_s = idle_s
        return new

    def setblocking(self, flag: bool) -> None:
        # gunicorn switches sockets to blocking for each request: blocking here means "bounded".
        if flag:
            self.settimeout(self.idle_s)
        else:
            super().setblocking(False)

    def shutdown(self, how: int) -> None:
        if how in (socket.SHUT_WR, socket.SHUT_RDWR):
            self.what = "the close"
            self.deadline = time.monotonic() + (0.0 if self.cut else self.linger_s)
        super().shutdown(how)

    def _bound(self) -> None:
        if self.gettimeout() == 0.0:  # non-blocking (gunicorn's poller): nothing to bound
            return
        wait = self.idle_s
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self.cut = True
                raise RequestTooSlow(self.what)
            wait = min(wait, left)
        self.settimeout(max(wait, 0.001))

    def recv(self, *args: Any) -> bytes:
        self._bound()
        return self._timed(super().recv, *args)

    def recv_into(self, *args: Any) -> int:
        self._bound()
        return self._timed(super().recv_into, *args)

    def send(self, *args: Any) -> int:
        self._bound()
        return self._timed(super().send, *args)

    def sendall(self, data: Any, *args: Any) -> None:
        view = memoryview(data).cast("B")
        while view:  # one bounded send at a time, so a reader that stalls is cut
            sent = self.send(view, *args)
            view = view[sent:]

    def _timed(self, fn: Callable, *args: Any) -> Any:
        try:
            return fn(*args)
        except TimeoutError as exc:
            self.cut = True
            raise RequestTooSlow(self.what) from exc


def guarded_worker_class(header_timeout_s: float, idle_s: float) -> type:
    """gunicorn's threaded worker whose connections are ``DeadlineSocket``s with these limits.

    gunicorn closes a connection "gracefully" on its main loop thread: FIN, then it drains what
    the client still sends for up to 2 s. A client that keeps its end open would stall the whole
    server 2 s per connection, so here the drain runs on a short-lived thread (at most
    ``MAX_LINGERING`` at once, the rest close at once) and a connection cut for slowness closes
    without draining."""
    from gunicorn import util
    from gunicorn.workers.gthread import TConn, ThreadWorker

    lingering = threading.BoundedSemaphore(MAX_LINGERING)

    def _linger(sock: socket.socket) -> None:
        try:
            util.close_graceful(sock)
        finally:
            lingering.release()

    class GuardedConn(TConn):
        def close(self, graceful: bool = False) -> None:
            cut = getattr(self.sock, "cut", False)
            if graceful and not cut and lingering.acquire(blocking=False):
                self.sock.setblocking(True)
                threading.Thread(target=_linger, args=(self.sock,), daemon=True).start()
            else:
                util.close(self.sock)

    class GuardedThreadWorker(ThreadWorker):
        def accept(self, listener):
            try:
                client_sock, client_addr = listener.accept()
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                    raise
                return
            self.nr_conns += 1
            sock = DeadlineSocket.adopt(client_sock, idle_s)
            sock.setblocking(True)
            self.enqueue_req(GuardedConn(self.cfg, sock, client_addr, listener.getsockname()))

        def handle(self, conn):
            sock = conn.sock
            if isinstance(sock, DeadlineSocket):  # a new request: its headers have a deadline
                sock.what = "the request headers"
                sock.deadline = time.monotonic() + header_timeout_s
            try:
                return super().handle(conn)
            finally:
                if isinstance(sock, DeadlineSocket):
                    sock.deadline = None

        def handle_error(self, req, client, addr, exc):
            if isinstance(exc, RequestTooSlow):
                self.log.info("closed a slow client %s: %s", addr, exc)
                return None
            return super().handle_error(req, client, addr, exc)

    return GuardedThreadWorker


# ---- host and origin ------------------------------------------------------------------------------
def _hostname(host: str) -> str:
    """``Host`` header (or URL netloc) -> lower-case name without port or IPv6 brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostPolicy:
    """Which ``Host`` and ``Origin`` values this server answers in no-token mode."""

    def __init__(self, settings: Settings) -> None:
        extra = {h.strip().lower() for h in settings.allowed_hosts if h.strip()}
        self.any_host = "*" in extra
        names = {"localhost", _hostname(settings.host)}
        try:
            names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        except OSError:
            pass
        self.names = {n for n in names | {_hostname(h) for h in extra} if n}
        origins = {o.strip().rstrip("/").lower() for o in settings.allowed_origins if o.strip()}
        self.any_origin = "*" in origins
        self.origins = origins

    def host_ok(self, host: str | None) -> bool:
        if self.any_host:
            return True
        name = _hostname(host or "")
        # An IP literal cannot be rebound: the browser's origin is that address itself.
        return bool(name) and (_is_ip(name) or name in self.names or name.endswith(".localhost"))

    def origin_ok(self, origin: str | None, host: str | None) -> bool:
        """No Origin (not a browser, or a same-origin GET) is fine; else it must be this server."""
        if origin is None or self.any_origin:
            return True
        origin = origin.strip().rstrip("/").lower()
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False  # "null" (sandboxed frames, file: pages) and the like
        return bool(host) and parts.netloc == host.strip().lower() and self.host_ok(host)


# ---- the middleware ---------------------------------------------------------------------------------
def _refuse(start_response, exc: PersonaError) -> list[bytes]:
    """Answer with the project's one error shape, outside Flask (the connection is closed)."""
    reason = {
        401: "UNAUTHORIZED",
        403: "FORBIDDEN",
        408: "REQUEST TIMEOUT",
        429: "TOO MANY REQUESTS",
        503: "SERVICE UNAVAILABLE",
    }
    error = {"code": exc.code, "message": exc.message, "params": exc.params or {}}
    body = json.dumps({"error": error}, ensure_ascii=False).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
    ]
    if exc.status == 503:
        headers.append(("Retry-After", "5"))
    start_response(f"{exc.status} {reason.get(exc.status, 'ERROR')}", headers)
    return [body]


class _SlowBody:
    """``wsgi.input`` that refuses a body arriving slower than the minimum rate (after a grace)."""

    def __init__(self, stream, sock: DeadlineSocket | None, length: int, settings: Settings) -> None:
        self.stream, self.sock = stream, sock
        self.t0 = time.monotonic()
        self.grace = float(settings.upload_grace_s)
        self.rate = max(1.0, float(settings.upload_min_bytes_per_s))
        self.got = 0
        if sock is not None:  # the whole body must be in by then, however it is read
            sock.what = "the upload"
            sock.deadline = self.t0 + self.grace + length / self.rate

    def _check(self, n: int) -> None:
        self.got += n
        elapsed = time.monotonic() - self.t0
        if elapsed > self.grace and self.got < (elapsed - self.grace) * self.rate:
            raise RequestTooSlow("the upload")

    def read(self, *args: Any) -> bytes:
        data = self.stream.read(*args)
        self._check(len(data))
        return data

    def readline(self, *args: Any) -> bytes:
        data = self.stream.readline(*args)
        self._check(len(data))
        return data

    def readlines(self, *args: Any) -> list[bytes]:
        lines = self.stream.readlines(*args)
        self._check(sum(len(x) for x in lines))
        return lines

    def __iter__(self):
        return iter(self.readline, b"")


class FrontDoor:
    """WSGI middleware: host/origin, Socket.IO handshake token, socket counts, upload pace."""

    def __init__(self, app: Callable, settings: Settings, *, socket_capacity: int | None = None) -> None:
        self.app = app
        self.settings = settings
        self.policy = HostPolicy(settings)
        self.per_client = max(0, int(settings.sockets_per_client))
        self.capacity = socket_capacity  # None: unbounded (the test client, a single-thread server)
        self.lock = threading.Lock()
        self.open_by_client: Counter[str] = Counter()
        self.open_total = 0

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        if isinstance(sock, DeadlineSocket):
            sock.deadline = None  # the headers are in; from here the body rules apply
        path = environ.get("PATH_INFO", "") or ""
        method = environ.get("REQUEST_METHOD", "GET").upper()
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME")
        if not self.settings.token:
            if not self.policy.host_ok(host):
                name = _hostname(host or "")[:200]
                return _refuse(
                    start_response,
                    PersonaError(
                        "host_not_allowed",
                        f"this server does not answer for host {name!r} (add it to PERSONA_ALLOWED_HOSTS)",
                        status=403,
                        params={"host": name},
                    ),
                )
            if method in UNSAFE_METHODS and not self.policy.origin_ok(environ.get("HTTP_ORIGIN"), host):
                origin = str(environ.get("HTTP_ORIGIN"))[:200]
                return _refuse(
                    start_response,
                    PersonaError(
                        "origin_not_allowed",
                        "requests from another site are not accepted (add it to PERSONA_ALLOWED_ORIGINS)",
                        status=403,
                        params={"origin": origin},
                    ),
                )
        if path == SOCKET_PATH or path.startswith(SOCKET_PATH + "/"):
            return self._socket(environ, start_response)
        length = _content_length(environ)
        if length > 0 and "wsgi.input" in environ:
            environ["wsgi.input"] = _SlowBody(
                environ["wsgi.input"],
                sock if isinstance(sock, DeadlineSocket) else None,
                length,
                self.settings,
            )
        try:
            return self.app(environ, start_response)
        except RequestTooSlow:
            return _refuse(
                start_response, PersonaError("request_too_slow", "the upload arrived too slowly", status=408)
            )

    def _socket(self, environ: dict, start_response) -> Iterable[bytes]:
        token = self.settings.token
        if token:
            headers = {"Authorization": environ.get("HTTP_AUTHORIZATION", "")}
            args = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items() if v}
            if not token_ok(token, token_from(headers, args)):
                return _refuse(
                    start_response,
                    PersonaError("unauthorized", "this server needs its access token", status=401),
                )
        client = environ.get("REMOTE_ADDR") or "?"
        with self.lock:
            refused = None
            if self.per_client and self.open_by_client[client] >= self.per_client:
                refused = PersonaError(
                    "too_many_connections",
                    f"this address already holds {self.per_client} live connections",
                    status=429,
                    params={"max": self.per_client},
                )
            elif self.capacity is not None and self.open_total >= self.capacity:
                refused = PersonaError(
                    "server_busy",
                    "the server holds as many live connections as it can; try again shortly",
                    status=503,
                    params={"max": self.capacity},
                )
            else:
                self.open_by_client[client] += 1
                self.open_total += 1
        if refused is not None:
            return _refuse(start_response, refused)
        try:
            return self.app(environ, start_response)
        finally:  # engine.io returns once the long-poll or the WebSocket is over
            with self.lock:
                self.open_by_client[client] -= 1
                if self.open_by_client[client] <= 0:
                    del self.open_by_client[client]
                self.open_total -= 1


def _content_length(environ: dict) -> int:
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def socket_capacity(threads: int) -> int:
    """How many threads live sockets may hold: a quarter (at least 4) stays for everything else."""
    return max(1, threads - max(4, threads // 4))


# ---- engine.io sessions that never join -----------------------------------------------------------
def reap_idle_sessions(server: Any, connect_s: float, every_s: float = 1.0) -> Callable[[str, str], None]:
    """Close engine.io sessions that join no Socket.IO namespace within ``connect_s`` (a refused
    namespace leaves the transport open otherwise). Returns ``refused(sid, namespace)`` for the
    connect handler, which closes that session's transport at the next sweep."""
    eio = server.eio
    born: dict[str, float] = {}
    doomed: set[str] = set()
    lock = threading.Lock()
    original = eio.handlers.get("connect")
    started_pid: list[int | None] = [None]

    def on_eio_connect(eio_sid, environ, *args):
        with lock:
            born[eio_sid] = time.monotonic()
            if started_pid[0] != os.getpid():  # lazily, in the serving process (after gunicorn forks)
                started_pid[0] = os.getpid()
                eio.start_background_task(sweep)
        return original(eio_sid, environ, *args) if original else None

    eio.on("connect", on_eio_connect)

    def sweep() -> None:
        while True:
            eio.sleep(every_s)
            now = time.monotonic()
            with lock:
                live = set(eio.sockets)
                for sid in list(born):
                    if sid not in live:
                        born.pop(sid, None)
                        doomed.discard(sid)
                candidates = [s for s, t in born.items() if s in doomed or now - t >= connect_s]
            for sid in candidates:
                try:
                    joined = server.manager.sid_from_eio_sid(sid, "/") is not None
                except Exception:  # noqa: BLE001
                    joined = False
                if joined and sid not in doomed:
                    with lock:
                        born.pop(sid, None)
                    continue
                try:
                    eio.disconnect(sid)
                except Exception:  # noqa: BLE001 - already gone
                    log.debug("closing engine.io session %s", sid, exc_info=True)
                with lock:
                    born.pop(sid, None)
                    doomed.discard(sid)

    def refused(sid: str, namespace: str) -> None:
        try:
            eio_sid = server.manager.eio_sid_from_sid(sid, namespace or "/")
        except Exception:  # noqa: BLE001
            eio_sid = None
        if eio_sid:
            with lock:
                doomed.add(eio_sid)

    return refused
