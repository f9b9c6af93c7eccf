"""``persona serve``: gunicorn (threaded worker) serving the app + Socket.IO, and the embedded job worker.

Why this server: Flask-SocketIO in ``threading`` mode with ``simple-websocket`` runs real
WebSockets under gunicorn's ``gthread`` worker (gunicorn hands the socket over as
``gunicorn.socket``), a mature pre-fork server with no monkey-patching (eventlet is deprecated,
gevent would patch the engine's threads). One gunicorn process (Socket.IO rooms live in memory)
with many threads: each WebSocket holds one thread, so ``threads`` bounds concurrent clients.

The embedded worker is a separate process tree (huey consumer + worker processes), forked before
gunicorn starts and stopped with it; it dies with its parent (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import time
from typing import Any

from persona.settings import Settings

log = logging.getLogger(__name__)


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_worker_process(
    settings: Settings, *, workers: int | None = None, fixture_jobs: bool = False, tiny_models: bool = False
) -> int:
    """Fork the embedded worker (before gunicorn starts: no threads yet); returns its pid."""
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        _die_with_parent()
        os.setpgid(0, 0)  # its own group: Ctrl-C reaches the server, which then stops the worker
        from persona.jobs.worker import run_worker

        run_worker(settings, workers=workers, fixture_jobs=fixture_jobs, tiny_models=tiny_models)
    except BaseException:  # noqa: BLE001
        log.exception("embedded worker stopped")
        code = 1
    finally:
        os._exit(code)


def stop_worker_process(pid: int, timeout: float = 15.0) -> None:
    """SIGTERM the worker's process group, wait, then SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # already reaped (gunicorn's arbiter reaps every child)
            done = pid
        if done:
            break
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def gunicorn_options(settings: Settings, threads: int = 64) -> dict[str, Any]:
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": 1,
        "worker_class": "gthread",
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
    fixture_jobs: bool = False,
    tiny_models: bool = False,
) -> None:
    """Run until interrupted. ``fixture_jobs``/``tiny_models``: see ``persona.jobs.worker.run_worker``."""
    from gunicorn.app.base import BaseApplication

    from persona.server.app import create_app

    settings.home.mkdir(parents=True, exist_ok=True)
    worker = (
        start_worker_process(settings, workers=workers, fixture_jobs=fixture_jobs)
        if embedded_worker
        else None
    )
    app = create_app(settings)

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            for key, value in gunicorn_options(settings, threads).items():
                self.cfg.set(key, value)

        def load(self):
            return app

    if settings.host not in ("127.0.0.1", "localhost", "::1") and not settings.token:
        log.warning("serving on %s without PERSONA_TOKEN: anyone who can reach it can use it", settings.host)
    server_pid = os.getpid()
    try:
        _Gunicorn().run()
    finally:
        # gunicorn's own worker processes also unwind through here: only the server stops the worker.
        if worker is not None and os.getpid() == server_pid:
            stop_worker_process(worker)
