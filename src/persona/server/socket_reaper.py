"""Engine.io sessions that never join a Socket.IO namespace are closed (each holds a thread)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


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
