"""Live Socket.IO connections end when the session or token that opened them does (accounts mode).

A connection is checked once, at connect (``signin.socket_allowed``); afterwards the person may
sign out, be disabled or deleted, or revoke the token, in any web process. Each web process
therefore re-checks its own connections every ``EVERY_S`` seconds (one indexed read each) and
disconnects those whose credential no longer names an enabled person; a sign-out in this process
disconnects that session's sockets at once.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from persona.accounts import credentials
from persona.accounts.store import Accounts

log = logging.getLogger(__name__)
EVERY_S = 5.0


class SocketWatch:
    def __init__(self, socketio: Any, accounts: Accounts, every_s: float = EVERY_S) -> None:
        self.socketio, self.accounts, self.every_s = socketio, accounts, every_s
        self.lock = threading.Lock()
        self.live: dict[str, tuple[str, str]] = {}  # sid -> ("session" | "token", secret)
        self._started_pid: int | None = None

    def remember(self, sid: str, kind: str, secret: str) -> None:
        with self.lock:
            self.live[sid] = (kind, secret)
            start = self._started_pid != os.getpid()
            self._started_pid = os.getpid()
        if start:  # lazily, in the serving process (after gunicorn forks)
            self.socketio.start_background_task(self._run)

    def _valid(self, kind: str, secret: str) -> bool:
        if kind == "session":
            return credentials.session_user(self.accounts, secret) is not None
        return credentials.token_user(self.accounts, secret) is not None

    def _connected(self, sid: str) -> bool:
        try:
            return bool(self.socketio.server.manager.is_connected(sid, "/"))
        except Exception:  # noqa: BLE001 - treat as gone
            return False

    def sweep(self, only_secret: str | None = None) -> list[str]:
        """Disconnect this process' connections whose credential is gone; returns their sids."""
        with self.lock:
            items = list(self.live.items())
        ended = []
        for sid, (kind, secret) in items:
            if only_secret is not None and secret != only_secret:
                continue
            if not self._connected(sid):
                with self.lock:
                    self.live.pop(sid, None)
                continue
            if only_secret is None and self._valid(kind, secret):
                continue
            with self.lock:
                self.live.pop(sid, None)
            try:
                self.socketio.server.disconnect(sid, namespace="/")
            except Exception:  # noqa: BLE001 - already gone
                log.debug("disconnecting a revoked socket", exc_info=True)
            ended.append(sid)
        return ended

    def _run(self) -> None:
        while True:
            self.socketio.sleep(self.every_s)
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - the database away: try at the next round
                log.warning("socket identity sweep failed", exc_info=True)
