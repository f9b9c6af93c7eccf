"""Client sockets with deadlines: no read or write on a client connection waits forever.

``DeadlineSocket`` is the socket gunicorn's worker (``persona.server.gunicorn_worker``) hands
every connection: a blocking read or write never waits longer than ``idle_s`` (engine.io pings
every 20 s, so a live WebSocket is never idle that long), nor past ``deadline`` when one is set
(the request's headers, an upload's whole body: ``persona.server.front_door``). A client that
misses one gets ``RequestTooSlow``, which gunicorn treats as a quiet disconnect.
"""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Callable
from typing import Any


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
    prefix: Any = None  # a file with the request's body, read by the event loop: recv reads it first

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
        if self.prefix is not None:
            data = self.prefix.read(args[0] if args else 65536)
            if data:
                return data
            self.drop_prefix()
        self._bound()
        return self._timed(super().recv, *args)

    def recv_into(self, buffer: Any, *args: Any) -> int:
        if self.prefix is not None:
            view = memoryview(buffer).cast("B")
            n = self.prefix.readinto(view[: args[0]] if args and args[0] else view)
            if n:
                return n
            self.drop_prefix()
        self._bound()
        return self._timed(super().recv_into, buffer, *args)

    def drop_prefix(self) -> None:
        if self.prefix is not None:
            self.prefix.close()
            self.prefix = None

    def close(self) -> None:
        self.drop_prefix()
        super().close()

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
