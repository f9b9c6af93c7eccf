"""The gunicorn worker of ``persona serve``: gunicorn's threaded (``gthread``) worker, made as
hard to starve with slow clients as nginx in front of it.

* **Requests are read on the event loop** (``persona.server.intake``): a connection's head, and
  a body of announced length, are collected without a thread, within the header deadline and
  at the minimum upload pace, bounded per address; only then does a thread parse and serve the
  request, reading the body from the loop's spool at once.
* Every connection is a ``DeadlineSocket`` (``persona.server.deadlines``): no read or write waits
  longer than ``socket_idle_s``; bodies the loop does not spool (chunked, ``Expect``) are paced
  and counted by the front door (``persona.server.front_door``).
* A body the app leaves unread (a refused upload) is not drained on a thread: the connection
  closes. gunicorn closes a connection "gracefully" on its main loop: FIN, then it drains what
  the client still sends for up to 2 s; here the drain runs on a short-lived thread (at most
  ``MAX_LINGERING`` at once, the rest close at once) and a connection cut for slowness closes
  without draining.
"""

from __future__ import annotations

import errno
import socket
import threading
import time

from persona.server.deadlines import DeadlineSocket, RequestTooSlow
from persona.server.intake import Intake, IntakeLimits
from persona.settings import Settings

MAX_LINGERING = 64


def _body_left_to_read(conn) -> bool:
    """Whether the current request's body still has bytes on the wire that nobody has read."""
    if getattr(conn.sock, "prefix", None) is not None:
        return False  # the loop spooled the body: draining the rest reads a local file
    mesg = getattr(conn.parser, "mesg", None)
    reader = getattr(getattr(mesg, "body", None), "reader", None)
    left = getattr(reader, "length", None)  # gunicorn's LengthReader: bytes not yet read
    if not isinstance(left, int):
        return False  # chunked or none: gunicorn's bounded drain decides
    return left > len(conn.parser.unreader.buf.getvalue())


def guarded_worker_class(settings: Settings) -> type:
    """gunicorn's threaded worker with the limits of ``settings`` (see the module docstring)."""
    from gunicorn import util
    from gunicorn.workers.gthread import TConn, ThreadWorker

    header_timeout_s = float(settings.header_timeout_s)
    idle_s = float(settings.socket_idle_s)
    limits = IntakeLimits.of(settings)
    lingering = threading.BoundedSemaphore(MAX_LINGERING)

    def _linger(sock: socket.socket) -> None:
        try:
            util.close_graceful(sock)
        finally:
            lingering.release()

    class GuardedConn(TConn):
        head: bytearray | None = None  # the next request's head, while the loop collects it
        head_ready: bool = False

        def close(self, graceful: bool = False) -> None:
            cut = getattr(self.sock, "cut", False)
            if graceful and not cut and lingering.acquire(blocking=False):
                self.sock.setblocking(True)
                threading.Thread(target=_linger, args=(self.sock,), daemon=True).start()
            else:
                util.close(self.sock)

    class GuardedThreadWorker(Intake, ThreadWorker):
        def init_process(self):
            # Leave room for kept-alive and served connections: past this the oldest waiter goes.
            self.init_intake(limits, max(16, self.worker_connections - self.cfg.threads - 64))
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
            if not self.admit(conn):
                self.log.info("closed a connection of %s: too many of its requests still coming", client_addr)
                self.nr_conns -= 1
                util.close(sock)
                return
            self.collect_head(conn)

        def enqueue_req(self, conn):
            """gunicorn hands a connection here when it has a request to serve (a kept-alive one
            became readable, or bytes were read ahead): a thread only once the loop has read it."""
            if getattr(conn, "head_ready", False):
                conn.head_ready = False
                return super().enqueue_req(conn)
            self.collect_head(conn)

        def murder_pending(self):
            super().murder_pending()
            self.sweep_waiting()

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
