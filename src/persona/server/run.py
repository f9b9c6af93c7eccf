"""``persona serve``: gunicorn (threaded worker) serving the app + Socket.IO, and the embedded job worker.

Why this server: Flask-SocketIO in ``threading`` mode with ``simple-websocket`` runs real
WebSockets under gunicorn's ``gthread`` worker (gunicorn hands the socket over as
``gunicorn.socket``), a mature pre-fork server with no monkey-patching (eventlet is deprecated,
gevent would patch the engine's threads). One gunicorn process (Socket.IO rooms live in memory)
with many threads: each WebSocket holds one thread, so ``threads`` bounds concurrent clients; the
front door (``persona.server.front_door``) keeps a quarter of them for ordinary requests, bounds live
sockets per client address, refuses unauthenticated Socket.IO handshakes, and cuts slow clients.

The embedded worker is a separate process tree (``persona worker``: huey consumer + worker
processes), started before gunicorn and stopped with it; it dies with its parent (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from persona.fsutil import atomic_write_text
from persona.settings import Settings

log = logging.getLogger(__name__)
_CLI = "import sys; from persona.cli import main; sys.exit(main(sys.argv[1:]))"


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def settings_to_json(settings: Settings) -> str:
    return json.dumps(
        {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(settings).items()}
    )


def settings_from_json(text: str) -> Settings:
    return Settings(**Settings.typed(json.loads(text)))


def start_worker_process(
    settings: Settings, *, workers: int | None = None, handlers: str | None = None
) -> subprocess.Popen:
    """Start the embedded worker as a fresh interpreter (never a fork: a parent that has touched
    torch's thread pools would hand the child a deadlocked OpenMP), in its own process group, with
    exactly this Settings object (written beside the job database). ``handlers``: the name of a
    handler registry for tests (``persona worker --handlers``); None runs the real engines."""
    path = Path(settings.jobs_dir) / "worker-settings.json"
    atomic_write_text(path, settings_to_json(settings))
    args = [sys.executable, "-c", _CLI, "worker", "--settings-file", str(path)]
    if workers:
        args += ["--workers", str(workers)]
    args += ["--handlers", handlers] if handlers else []
    return subprocess.Popen(args, start_new_session=True, preexec_fn=_die_with_parent)  # noqa: PLW1509


def stop_worker_process(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM the worker's process group, wait, then SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if proc.poll() is not None:
                break
        except ChildProcessError:  # already reaped (gunicorn's arbiter reaps every child)
            break
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def gunicorn_options(settings: Settings, threads: int = 64) -> dict[str, Any]:
    from persona.server.gunicorn_worker import guarded_worker_class

    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": 1,
        # gthread, with per-connection deadlines (slow headers, stalled reads and writes)
        "worker_class": guarded_worker_class(settings),
        "threads": threads,
        "timeout": 120,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "persona",
        "limit_request_line": 8190,
        "control_socket_disable": True,
    }


def serve(
    settings: Settings,
    *,
    embedded_worker: bool = True,
    workers: int | None = None,
    threads: int = 64,
    handlers: str | None = None,
) -> None:
    """Run until interrupted. ``handlers``: the embedded worker's registry name (see ``start_worker_process``)."""
    from gunicorn.app.base import BaseApplication

    from persona.server.app import create_app

    settings.home.mkdir(parents=True, exist_ok=True)
    keeper = _WorkerKeeper(settings, workers, handlers) if embedded_worker else None
    if keeper is not None:
        keeper.start()
    from persona.server.front_door import socket_capacity

    app = create_app(settings, socket_capacity=socket_capacity(threads))

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            for key, value in gunicorn_options(settings, threads).items():
                self.cfg.set(key, value)
            if keeper is not None:  # in the master, once listening: restart the worker if it dies
                self.cfg.set("when_ready", lambda server: keeper.watch())
                self.cfg.set("on_exit", lambda server: keeper.stop_watching())

        def load(self):
            return app

    if settings.host not in ("127.0.0.1", "localhost", "::1") and not settings.token:
        log.warning("serving on %s without PERSONA_TOKEN: anyone who can reach it can use it", settings.host)
    server_pid = os.getpid()
    try:
        _Gunicorn().run()
    finally:
        # gunicorn's own worker processes also unwind through here: only the server stops the worker.
        if keeper is not None and os.getpid() == server_pid:
            keeper.stop()


class _WorkerKeeper:
    """Owns the embedded worker process; a watchdog thread in gunicorn's master restarts it if it
    exits (a crash of the consumer itself; huey already replaces its dead worker processes)."""

    def __init__(self, settings: Settings, workers: int | None, handlers: str | None) -> None:
        self._args = (settings,)
        self._kwargs = {"workers": workers, "handlers": handlers}
        self.proc: subprocess.Popen | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        self.proc = start_worker_process(*self._args, **self._kwargs)

    def watch(self, every_s: float = 2.0) -> None:
        def loop() -> None:
            while not self._stopping.wait(every_s):
                if self.proc is not None and self.proc.poll() is not None and not self._stopping.is_set():
                    log.warning("the job worker exited (code %s); starting it again", self.proc.returncode)
                    with contextlib.suppress(ProcessLookupError):  # orphaned huey workers of the old one
                        os.killpg(self.proc.pid, signal.SIGKILL)
                    self.start()

        threading.Thread(target=loop, daemon=True, name="persona-worker-keeper").start()

    def stop_watching(self) -> None:
        self._stopping.set()

    def stop(self) -> None:
        self._stopping.set()
        if self.proc is not None:
            stop_worker_process(self.proc)
