"""The gunicorn worker of ``persona serve``: gunicorn's threaded (``gthread``) worker whose
connections are ``DeadlineSocket``s, so that slow clients cannot hold its threads.

A request's headers must arrive within ``header_timeout_s`` and no read or write waits longer
than ``socket_idle_s`` (``persona.server.deadlines``).
"""

from __future__ import annotations

import errno
import socket
import threading
import time

from persona.server.deadlines import DeadlineSocket, RequestTooSlow

MAX_LINGERING = 64


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
