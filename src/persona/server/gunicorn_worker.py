"""The gunicorn worker of ``persona serve``: gunicorn's threaded (``gthread``) worker, made as
hard to starve with slow clients as nginx in front of it.

* **Headers are read on the event loop**, as nginx does: a new connection (or a kept-alive one
  that becomes readable) is watched by the worker's selector and its bytes collected without a
  thread until the request's head is complete; only then does a thread parse and serve it. A
  client sending one header line every few seconds costs a file descriptor, not a thread. The
  head must be in within ``header_timeout_s``; at most ``pending_per_client`` connections per
  address may be waiting for theirs (trusted proxies excepted: ``persona.server.proxies``); past
  that the newest is closed, and when too many wait in all the oldest waiter is dropped.
* Every connection is a ``DeadlineSocket`` (``persona.server.deadlines``): no read or write waits
  longer than ``socket_idle_s``; bodies are paced by the front door (``persona.server.front_door``,
  which also bounds uploads per address and in all).
* gunicorn closes a connection "gracefully" on its main loop: FIN, then it drains what the
  client still sends for up to 2 s. Here the drain runs on a short-lived thread (at most
  ``MAX_LINGERING`` at once, the rest close at once) and a connection cut for slowness closes
  without draining.
"""

from __future__ import annotations

import errno
import selectors
import socket
import threading
import time
from collections import Counter
from functools import partial

from persona.server.deadlines import DeadlineSocket, RequestTooSlow
from persona.server.proxies import TrustedProxies
from persona.settings import Settings

MAX_LINGERING = 64
MAX_HEAD_BYTES = 256 * 1024  # past this the parser sees it (and answers 431/400): never buffered more
HEAD_ENDS = (b"\r\n\r\n", b"\n\n")


def _address(client) -> str:
    return client[0] if isinstance(client, tuple) and client else str(client)


def _body_left_to_read(conn) -> bool:
    """Whether the current request's body still has bytes on the wire that nobody has read."""
    mesg = getattr(conn.parser, "mesg", None)
    reader = getattr(getattr(mesg, "body", None), "reader", None)
    left = getattr(reader, "length", None)  # gunicorn's LengthReader: bytes not yet read
    if not isinstance(left, int):
        return False  # chunked or none: gunicorn's bounded drain decides
    return left > len(conn.parser.unreader.buf.getvalue())


def guarded_worker_class(settings: Settings) -> type:
    """gunicorn's threaded worker with the limits of ``settings`` (see the module docstring)."""
    from gunicorn import http, util
    from gunicorn.workers.gthread import TConn, ThreadWorker

    header_timeout_s = float(settings.header_timeout_s)
    idle_s = float(settings.socket_idle_s)
    per_client = max(0, int(settings.pending_per_client))
    proxies = TrustedProxies(settings.trusted_proxies)
    lingering = threading.BoundedSemaphore(MAX_LINGERING)

    def _linger(sock: socket.socket) -> None:
        try:
            util.close_graceful(sock)
        finally:
            lingering.release()

    class GuardedConn(TConn):
        head: bytearray | None = None  # bytes of the next request's head, while the loop collects them
        head_deadline: float = 0.0
        head_ready: bool = False

        def close(self, graceful: bool = False) -> None:
            cut = getattr(self.sock, "cut", False)
            if graceful and not cut and lingering.acquire(blocking=False):
                self.sock.setblocking(True)
                threading.Thread(target=_linger, args=(self.sock,), daemon=True).start()
            else:
                util.close(self.sock)

    class GuardedThreadWorker(ThreadWorker):
        def init_process(self):
            self.heads: dict[GuardedConn, float] = {}  # connections collecting a head -> deadline
            self.heads_by_client: Counter[str] = Counter()
            # Leave room for kept-alive and served connections: past this the oldest waiter goes.
            self.max_heads = max(16, self.worker_connections - self.cfg.threads - 64)
            super().init_process()

        def accept(self, listener):
            try:
                client_sock, client_addr = listener.accept()
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                    raise
                return
            self.nr_conns += 1
            sock = DeadlineSocket.adopt(client_sock, idle_s)
            conn = GuardedConn(self.cfg, sock, client_addr, listener.getsockname())
            address = _address(client_addr)
            if per_client and not proxies.trusts(address) and self.heads_by_client[address] >= per_client:
                self.log.info(
                    "closed a connection of %s: %d still sending their headers", address, per_client
                )
                self.nr_conns -= 1
                util.close(sock)
                return
            if len(self.heads) >= self.max_heads:
                self._drop_head(next(iter(self.heads)))  # the oldest waiter (dicts keep insertion order)
            self._collect_head(conn)

        def enqueue_req(self, conn):
            """gunicorn hands a connection here when it has a request to serve (a kept-alive one
            became readable, or bytes were read ahead): a thread only once its head is in."""
            if getattr(conn, "head_ready", False):
                conn.head_ready = False
                return super().enqueue_req(conn)
            self._collect_head(conn)

        # ---- the head, collected on the event loop -------------------------------------------
        def _collect_head(self, conn: GuardedConn) -> None:
            conn.sock.setblocking(False)
            ahead = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
            conn.head = bytearray(ahead)
            if self._head_complete(conn):
                self._hand_over(conn)
                return
            conn.head_deadline = time.monotonic() + header_timeout_s
            self.heads[conn] = conn.head_deadline
            self.heads_by_client[_address(conn.client)] += 1
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_head_readable, conn))

        @staticmethod
        def _head_complete(conn: GuardedConn) -> bool:
            head = conn.head or b""
            return len(head) >= MAX_HEAD_BYTES or any(end in head for end in HEAD_ENDS)

        def _forget(self, conn: GuardedConn) -> None:
            if self.heads.pop(conn, None) is None:
                return
            address = _address(conn.client)
            self.heads_by_client[address] -= 1
            if self.heads_by_client[address] <= 0:
                del self.heads_by_client[address]
            try:
                self.poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass

        def _drop_head(self, conn: GuardedConn) -> None:
            self._forget(conn)
            self.nr_conns -= 1
            conn.sock.cut = True
            conn.close()

        def _on_head_readable(self, conn: GuardedConn, _sock) -> None:
            try:
                data = conn.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if not data:  # the client went away
                self._drop_head(conn)
                return
            conn.head += data
            if self._head_complete(conn):
                self._forget(conn)
                self._hand_over(conn)

        def _hand_over(self, conn: GuardedConn) -> None:
            if conn.parser is None:  # a new connection: its parser reads the collected head first
                conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
            conn.parser.unreader.unread(bytes(conn.head or b""))
            conn.head = None
            conn.data_ready = True  # gunicorn must not wait for data the loop already read
            conn.head_ready = True
            self.enqueue_req(conn)

        def murder_pending(self):
            super().murder_pending()
            now = time.monotonic()
            late = [conn for conn, deadline in self.heads.items() if deadline <= now]
            for conn in late:  # the head did not arrive in time (or a kept-alive client idled)
                self._drop_head(conn)

        # ---- serving ----------------------------------------------------------------------------
        def handle(self, conn):
            sock = conn.sock
            if isinstance(sock, DeadlineSocket):  # whatever of the head is still to come: bounded
                sock.what = "the request headers"
                sock.deadline = time.monotonic() + header_timeout_s
            try:
                return super().handle(conn)
            finally:
                if isinstance(sock, DeadlineSocket):
                    sock.deadline = None

        def _keepalive_after(self, conn, keepalive):
            """A body the app left unread (a refused upload) is not drained on a thread: gunicorn
            would wait up to 5 s for 64 KiB of it; the connection closes instead (gracefully, so
            the client still reads the answer)."""
            if keepalive and _body_left_to_read(conn):
                return False
            return super()._keepalive_after(conn, keepalive)

        def handle_error(self, req, client, addr, exc):
            if isinstance(exc, RequestTooSlow):
                self.log.info("closed a slow client %s: %s", addr, exc)
                return None
            return super().handle_error(req, client, addr, exc)

    return GuardedThreadWorker
