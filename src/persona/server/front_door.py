"""The front door: WSGI middleware that every request passes before Flask or engine.io sees it.

Why here and not in Flask: engine.io (Socket.IO's transport) answers ``/socket.io/`` before any
Flask hook runs, and each open WebSocket or long-poll holds one of gunicorn's ``threads``. So
``FrontDoor`` (outermost, in front of Flask-SocketIO's own) does, in order:

0. The path: control characters (400 ``path_invalid``) or too long (414 ``path_too_long``;
   ``persona.server.request_limits``).
1. Host and Origin (no-token mode only; with a token the token is the guard): a ``Host`` that is
   not this server's (DNS rebinding) is refused 403 ``host_not_allowed``; an unsafe method
   (POST, PUT, PATCH, DELETE) whose ``Origin`` is another site is refused 403
   ``origin_not_allowed`` (``persona.server.hosts``).
2. Socket.IO handshakes with a wrong token (``?token=`` or ``Authorization: Bearer``) are
   answered 401 at once. One with no credential the door can check (the token in Socket.IO's
   ``auth`` payload, or accounts mode) is admitted *on probation*: such requests hold at most a
   quarter of the socket capacity (503 ``server_busy``), and the session is closed by the reaper
   (``persona.server.socket_reaper``) unless the namespace handler accepts it, which then tells
   ``socket_authorised`` (its later requests carry a known ``sid``).
3. Long-lived Socket.IO requests (WebSockets, long-polls) are counted: at most
   ``sockets_per_client`` per client address (429 ``too_many_connections``) and at most
   ``threads - reserve`` in all (503 ``server_busy``), so ordinary requests always find a thread.
4. Request bodies (uploads, forms) a thread reads are counted: at most ``uploads_per_client``
   per client address (429 ``too_many_uploads``) and ``uploads_at_once`` in all (503
   ``uploads_busy``), refused before a byte of the body is read. Most bodies are already in the
   event loop's spool by then (``persona.server.intake``) and read at once; chunked and
   ``Expect: 100-continue`` ones come over the wire, so slow ones hold a bounded share of threads. A body must arrive at ``upload_min_bytes_per_s`` after ``upload_grace_s``; a
   slower one is cut (408 ``request_too_slow`` when the app reads it).

The client address is ``REMOTE_ADDR``, which ``persona.server.proxies`` has already set to the
browser's own address for requests from a trusted proxy.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from persona.errors import PersonaError
from persona.server.auth import token_from, token_ok
from persona.server.deadlines import DeadlineSocket, RequestTooSlow
from persona.server.hosts import HostPolicy, hostname
from persona.server.identity import accounts_enabled
from persona.server.request_limits import path_problem
from persona.settings import Settings

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SOCKET_PATH = "/socket.io"
MAX_SESSIONS = 10_000  # accepted engine.io session ids remembered (oldest forgotten first)


REASONS = {
    400: "BAD REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    408: "REQUEST TIMEOUT",
    414: "URI TOO LONG",
    429: "TOO MANY REQUESTS",
    503: "SERVICE UNAVAILABLE",
}


def refusal(exc: PersonaError) -> tuple[str, list[tuple[str, str]], bytes]:
    """Status line, headers and body of the project's one error shape (the connection closes)."""
    error = {"code": exc.code, "message": exc.message, "params": exc.params or {}}
    body = json.dumps({"error": error}, ensure_ascii=False).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
    ]
    if exc.status == 503:
        headers.append(("Retry-After", "5"))
    return f"{exc.status} {REASONS.get(exc.status, 'ERROR')}", headers, body


def refusal_bytes(exc: PersonaError) -> bytes:
    """The whole HTTP/1.1 answer, for the server's event loop (no WSGI there)."""
    status, headers, body = refusal(exc)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers)
    return f"HTTP/1.1 {status}\r\n{head}\r\n".encode() + body


def _refuse(start_response, exc: PersonaError) -> list[bytes]:
    """Answer with the project's one error shape, outside Flask (the connection is closed)."""
    status, headers, body = refusal(exc)
    start_response(status, headers)
    return [body]


def too_many_uploads(per_client: int) -> PersonaError:
    return PersonaError(
        "too_many_uploads",
        f"this address is already sending {per_client} uploads; wait for one to finish",
        status=429,
        params={"max": per_client},
    )


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
        # Live Socket.IO requests whose credential only the namespace handler can check, bounded
        # to a quarter of the capacity; engine.io sessions it accepted (their sid) are known.
        self.probation_capacity = max(2, (socket_capacity or 0) // 4)
        self.on_probation = 0
        self.sessions: OrderedDict[str, None] = OrderedDict()
        self.bodies = Slots(settings.uploads_per_client, settings.uploads_at_once)

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        if isinstance(sock, DeadlineSocket):
            sock.deadline = None  # the headers are in; from here the body rules apply
        bad_path = path_problem(environ)
        if bad_path is not None:
            return _refuse(start_response, bad_path)
        path = environ.get("PATH_INFO", "") or ""
        method = environ.get("REQUEST_METHOD", "GET").upper()
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME")
        if not self.settings.token:
            if not self.policy.host_ok(host):
                name = hostname(host or "")[:200]
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
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not (length > 0 or chunked) or "wsgi.input" not in environ:
            return self.app(environ, start_response)
        client = environ.get("REMOTE_ADDR") or "?"
        refused = self.bodies.take(client)
        if refused is not None:
            return _refuse(start_response, refused)
        try:
            environ["wsgi.input"] = _SlowBody(
                environ["wsgi.input"],
                sock if isinstance(sock, DeadlineSocket) else None,
                length,
                self.settings,
            )
            return self.app(environ, start_response)
        except RequestTooSlow:
            return _refuse(
                start_response, PersonaError("request_too_slow", "the upload arrived too slowly", status=408)
            )
        finally:  # the view has read (or refused) the body by the time it returns
            self.bodies.give_back(client)

    def _socket(self, environ: dict, start_response) -> Iterable[bytes]:
        args = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items() if v}
        probation = False
        token = self.settings.token
        if token or accounts_enabled(self.settings):
            given = None
            if token and not accounts_enabled(self.settings):
                headers = {"Authorization": environ.get("HTTP_AUTHORIZATION", "")}
                given = token_from(headers, args, cookies=_cookies(environ))
                if given is not None and not token_ok(token, given):
                    return _refuse(
                        start_response,
                        PersonaError("unauthorized", "this server needs its access token", status=401),
                    )
            # No credential the door can check: the token (or the session) may come in Socket.IO's
            # connect packet, which only the namespace handler sees. Admitted on probation.
            probation = given is None and not self._known_session(args.get("sid"))
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
            elif self.capacity is not None and (
                self.open_total >= self.capacity
                or (probation and self.on_probation >= self.probation_capacity)
            ):
                limit = self.probation_capacity if probation else self.capacity
                refused = PersonaError(
                    "server_busy",
                    "the server holds as many live connections as it can; try again shortly",
                    status=503,
                    params={"max": limit},
                )
            else:
                self.open_by_client[client] += 1
                self.open_total += 1
                self.on_probation += probation
        if refused is not None:
            return _refuse(start_response, refused)
        slot = environ["persona.socket_slot"] = {"probation": probation}
        try:
            return self.app(environ, start_response)
        finally:  # engine.io returns once the long-poll or the WebSocket is over
            with self.lock:
                self.open_by_client[client] -= 1
                if self.open_by_client[client] <= 0:
                    del self.open_by_client[client]
                self.open_total -= 1
                self.on_probation -= slot["probation"]

    def _known_session(self, sid: str | None) -> bool:
        with self.lock:
            return bool(sid) and sid in self.sessions

    def socket_authorised(self, eio_sid: str | None, environ: dict | None) -> None:
        """The namespace handler accepted this engine.io session (its ``auth`` payload or cookie):
        its later requests (long-polls, the WebSocket upgrade) are no longer on probation, nor
        is the live request it arrived on."""
        with self.lock:
            if eio_sid:
                self.sessions[eio_sid] = None
                self.sessions.move_to_end(eio_sid)
                while len(self.sessions) > MAX_SESSIONS:
                    self.sessions.popitem(last=False)
            slot = (environ or {}).get("persona.socket_slot")
            if slot and slot["probation"]:
                slot["probation"] = False
                self.on_probation -= 1


class Slots:
    """Counted places per client address and in all (0: no bound); ``take`` answers the refusal."""

    def __init__(self, per_client: int, total: int) -> None:
        self.per_client, self.total = max(0, int(per_client)), max(0, int(total))
        self.lock = threading.Lock()
        self.by_client: Counter[str] = Counter()
        self.in_use = 0

    def take(self, client: str) -> PersonaError | None:
        with self.lock:
            if self.per_client and self.by_client[client] >= self.per_client:
                return too_many_uploads(self.per_client)
            if self.total and self.in_use >= self.total:
                return PersonaError(
                    "uploads_busy",
                    f"the server is receiving {self.total} uploads already; try again shortly",
                    status=503,
                    params={"max": self.total},
                )
            self.by_client[client] += 1
            self.in_use += 1
            return None

    def give_back(self, client: str) -> None:
        with self.lock:
            self.by_client[client] -= 1
            if self.by_client[client] <= 0:
                del self.by_client[client]
            self.in_use -= 1


def _cookies(environ: dict) -> dict[str, str]:
    from werkzeug.http import parse_cookie

    return dict(parse_cookie(environ.get("HTTP_COOKIE", "")))


def _content_length(environ: dict) -> int:
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def socket_capacity(threads: int) -> int:
    """How many threads live sockets may hold: a quarter (at least 4) stays for everything else."""
    return max(1, threads - max(4, threads // 4))
