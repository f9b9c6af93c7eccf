"""What the server's event loop reads of a request before a thread serves it: the head, and a
body of announced length. As nginx does, so that a slow client costs a file descriptor (and,
for a body, spool space), never a thread.

``Intake`` is a mixin for gunicorn's threaded worker (``persona.server.gunicorn_worker``, which
supplies ``poller``, ``nr_conns`` and ``enqueue_req``). A connection with a request to serve is
watched by the worker's selector; its bytes are collected without a thread:

* **Head**: until the blank line (or ``MAX_HEAD_BYTES``: the parser then answers 431/400), within
  ``header_timeout_s``. One address may have ``pending_per_client`` connections collecting.
* **Body** (``Content-Length``, no ``Transfer-Encoding`` or ``Expect``): spooled to a temporary
  file (in memory up to ``SPOOL_IN_MEMORY``) at no less than ``upload_min_bytes_per_s`` after
  ``upload_grace_s``; ``uploads_per_client`` bodies per address (the next is answered 429
  ``too_many_uploads`` by the loop itself), at most ``SPOOL_BUDGET_BYTES`` announced in all (past
  that, or for a body no route accepts, the request goes to a thread as it is, where the front
  door's upload counts and Flask's size limit apply).

Then the head goes back into the request parser and the body is read from the spool
(``DeadlineSocket.prefix``) by a thread, at once. Trusted proxies (``persona.server.proxies``)
are not counted per address: they speak for many clients and buffer bodies themselves.
"""

from __future__ import annotations

import contextlib
import selectors
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from persona.server.front_door import refusal_bytes, too_many_uploads
from persona.server.proxies import TrustedProxies
from persona.server.request_limits import largest_request
from persona.settings import Settings

MAX_HEAD_BYTES = 256 * 1024  # past this the parser sees it (and answers 431/400): never buffered more
HEAD_ENDS = (b"\r\n\r\n", b"\n\n")
SPOOL_IN_MEMORY = 256 * 1024  # a body up to this stays in memory; larger ones go to a temporary file
SPOOL_BUDGET_BYTES = 8 * 1024**3  # announced body bytes being spooled at once, in all


@dataclass(frozen=True)
class IntakeLimits:
    header_timeout_s: float
    pending_per_client: int
    uploads_per_client: int
    min_bytes_per_s: float
    grace_s: float
    largest_body: int
    spool_dir: Path
    proxies: TrustedProxies

    @classmethod
    def of(cls, settings: Settings) -> IntakeLimits:
        return cls(
            header_timeout_s=float(settings.header_timeout_s),
            pending_per_client=max(0, int(settings.pending_per_client)),
            uploads_per_client=max(0, int(settings.uploads_per_client)),
            min_bytes_per_s=max(1.0, float(settings.upload_min_bytes_per_s)),
            grace_s=float(settings.upload_grace_s),
            largest_body=largest_request(settings),
            spool_dir=Path(settings.cache_dir) / "request-bodies",
            proxies=TrustedProxies(settings.trusted_proxies),
        )


def address(client: Any) -> str:
    return client[0] if isinstance(client, tuple) and client else str(client)


def body_length(head: bytes) -> tuple[int, int] | None:
    """(end of the head, Content-Length) when the loop may spool this request's body: a single
    valid length and neither ``Transfer-Encoding`` nor ``Expect``; None otherwise."""
    end = head.find(b"\r\n\r\n")
    if end < 0:
        return None
    lengths, blocked = [], False
    for line in head[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            lengths.append(value.strip())
        elif name in (b"transfer-encoding", b"expect"):
            blocked = True
    if blocked or len(lengths) != 1 or not lengths[0].isdigit():
        return None
    return end + 4, int(lengths[0])


class Intake:
    """Mixin: collect heads and bodies on the event loop (see the module docstring)."""

    limits: IntakeLimits

    def init_intake(self, limits: IntakeLimits, max_waiting: int) -> None:
        self.limits = limits
        self.waiting: dict[Any, float] = {}  # connections being read -> head deadline (or 0: a body)
        self.waiting_by_client: Counter[str] = Counter()
        self.bodies_by_client: Counter[str] = Counter()
        self.spooling_bytes = 0
        self.max_waiting = max_waiting

    def _counted(self, conn) -> str | None:
        """The address a connection counts against (None: a trusted proxy, not counted)."""
        addr = address(conn.client)
        return None if self.limits.proxies.trusts(addr) else addr

    def admit(self, conn) -> bool:
        """A new connection: False when its address already has too many heads/bodies coming."""
        addr = self._counted(conn)
        cap = self.limits.pending_per_client
        if addr is not None and cap and self.waiting_by_client[addr] >= cap:
            return False
        if len(self.waiting) >= self.max_waiting:
            self.drop_waiting(next(iter(self.waiting)))  # the oldest (dicts keep insertion order)
        return True

    # ---- the head -------------------------------------------------------------------------------
    def collect_head(self, conn) -> None:
        conn.sock.setblocking(False)
        ahead = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        conn.head, conn.spool, conn.body_left = bytearray(ahead), None, 0
        if self._head_complete(conn):
            self._head_done(conn, registered=False)
            return
        self._watch(conn, time.monotonic() + self.limits.header_timeout_s)

    def _watch(self, conn, deadline: float) -> None:
        self.waiting[conn] = deadline
        addr = self._counted(conn)
        if addr is not None:
            self.waiting_by_client[addr] += 1
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    @staticmethod
    def _head_complete(conn) -> bool:
        head = conn.head or b""
        return len(head) >= MAX_HEAD_BYTES or any(end in head for end in HEAD_ENDS)

    def _forget(self, conn) -> None:
        if self.waiting.pop(conn, None) is None:
            return
        addr = self._counted(conn)
        if addr is not None:
            self.waiting_by_client[addr] -= 1
            if self.waiting_by_client[addr] <= 0:
                del self.waiting_by_client[addr]
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)

    def _end_body(self, conn) -> None:
        """The connection no longer spools a body: give back its counts."""
        if getattr(conn, "spooling", False):
            conn.spooling = False
            self.spooling_bytes -= conn.body_length
            addr = self._counted(conn)
            if addr is not None:
                self.bodies_by_client[addr] -= 1
                if self.bodies_by_client[addr] <= 0:
                    del self.bodies_by_client[addr]

    def drop_waiting(self, conn) -> None:
        """Close a connection the loop was reading (too slow, gone, or pushed out)."""
        self._forget(conn)
        self._end_body(conn)
        if conn.spool is not None:
            conn.spool.close()
            conn.spool = None
        self.nr_conns -= 1
        conn.sock.cut = True
        conn.close()

    def _on_readable(self, conn, _sock) -> None:
        want = min(65536, conn.body_left) if conn.spool is not None else 65536
        try:
            data = conn.sock.recv(want)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self.drop_waiting(conn)
            return
        if conn.spool is None:
            conn.head += data
            if self._head_complete(conn):
                self._head_done(conn, registered=True)
            return
        try:
            conn.spool.write(data)
        except OSError:  # no room for it: the thread path will answer (disk_full) or fail plainly
            self.drop_waiting(conn)
            return
        conn.body_left -= len(data)
        if conn.body_left <= 0:
            self._forget(conn)
            self._hand_over(conn)

    def _head_done(self, conn, registered: bool) -> None:
        plan = body_length(bytes(conn.head))
        if plan is None or plan[1] == 0 or plan[1] > self.limits.largest_body:
            if registered:
                self._forget(conn)
            self._hand_over(conn)  # no body, or one for the thread path (chunked, Expect, too big)
            return
        end, length = plan
        if len(conn.head) - end >= length:  # the whole body came with the head: nothing to wait for
            if registered:
                self._forget(conn)
            self._hand_over(conn)
            return
        addr = self._counted(conn)
        cap = self.limits.uploads_per_client
        if addr is not None and cap and self.bodies_by_client[addr] >= cap:
            self._refuse_body(conn, registered)
            return
        if self.spooling_bytes + length > SPOOL_BUDGET_BYTES:
            if registered:
                self._forget(conn)
            self._hand_over(conn)  # the spool is full: the front door's counts decide
            return
        extra = bytes(conn.head[end:])
        del conn.head[end:]
        self.limits.spool_dir.mkdir(parents=True, exist_ok=True)
        conn.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, dir=self.limits.spool_dir)  # noqa: SIM115
        conn.spool.write(extra)  # any bytes past the body (a pipelined request) follow it there
        conn.body_length, conn.body_left = length, length - len(extra)
        conn.body_started = time.monotonic()
        conn.spooling = True
        self.spooling_bytes += length
        if addr is not None:
            self.bodies_by_client[addr] += 1
        if not registered:
            self._watch(conn, 0.0)
        else:
            self.waiting[conn] = 0.0

    def _refuse_body(self, conn, registered: bool) -> None:
        """429 from the loop (the answer is small: the socket's buffer takes it), then close."""
        with contextlib.suppress(OSError):
            conn.sock.send(refusal_bytes(too_many_uploads(self.limits.uploads_per_client)))
        if registered:
            self._forget(conn)
        self.nr_conns -= 1
        conn.close(graceful=True)  # the client still reads the answer

    def _hand_over(self, conn) -> None:
        from gunicorn import http

        self._end_body(conn)
        if conn.parser is None:  # a new connection: its parser reads the collected head first
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(conn.head or b""))
        if conn.spool is not None:
            conn.spool.seek(0)
            conn.sock.prefix, conn.spool = conn.spool, None
        conn.head = None
        conn.data_ready = True  # gunicorn must not wait for data the loop already read
        conn.head_ready = True
        self.enqueue_req(conn)

    def sweep_waiting(self) -> None:
        """Close heads past their deadline and bodies slower than the minimum pace."""
        now = time.monotonic()
        late = []
        for conn, deadline in self.waiting.items():
            if deadline:
                if deadline <= now:
                    late.append(conn)
            elif conn.spool is not None:
                elapsed = now - conn.body_started
                got = conn.body_length - conn.body_left
                if (
                    elapsed > self.limits.grace_s
                    and got < (elapsed - self.limits.grace_s) * self.limits.min_bytes_per_s
                ):
                    late.append(conn)
        for conn in late:
            self.drop_waiting(conn)
