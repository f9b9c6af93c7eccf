"""The worker: a huey consumer whose workers are processes, plus periodic recovery.

``run_worker(settings)`` blocks (SIGINT: finish running jobs, SIGTERM: stop now; an interrupted
job is found and resumed by ``recover`` at the next start). Worker count defaults to
``cover_concurrency + 1`` so a training and the allowed covers can all be taken from the queue;
the device slots (``devicelock``) then decide who runs on the GPU. The queue is polled every
0.05..0.25 s so a submitted job starts at once.

Scale-out (``PERSONA_REDIS_URL``): the worker serves the queue of its device class (``cuda`` or
``cpu``), advertises itself in Redis every ``BEAT_EVERY_S`` (``cluster.WorkerRegistry``) and
recovers orphaned jobs every ``RECOVER_EVERY_S_REDIS``; huey blocks on the Redis list, and while
Redis is away it retries with doubling waits up to 5 s.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from pathlib import Path

from persona.fsutil import atomic_write_text
from persona.jobs.handlers import Handler, default_handlers
from persona.jobs.queue import JobQueue, make_huey
from persona.jobs.recovery import recover
from persona.settings import Settings

log = logging.getLogger(__name__)
RECOVER_EVERY_S = 10.0
RECOVER_EVERY_S_REDIS = 5.0
BEAT_EVERY_S = 5.0


def default_worker_count(settings: Settings) -> int:
    return max(2, int(settings.cover_concurrency) + 1)


def run_worker(
    settings: Settings, *, workers: int | None = None, handlers: dict[str, Handler] | None = None
) -> None:
    """Run jobs with ``handlers`` (kind -> handler; default the real engines, ``default_handlers``)."""
    handlers = default_handlers() if handlers is None else handlers
    registry = None
    info = {
        "id": f"{socket.gethostname()}:{os.getpid()}",
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": time.time(),
        "kinds": sorted(handlers),
        "processes": workers or default_worker_count(settings),
    }
    if settings.redis_url:
        from persona.jobs.cluster import WorkerRegistry, describe_device

        registry = WorkerRegistry(settings.redis_url)
        info.update(describe_device(settings))
        info["queue"] = info["device"]
    huey, _ = make_huey(settings, handlers, info.get("queue"))
    queue = JobQueue(settings)
    stop = threading.Event()
    beat_file = workers_dir(settings) / f"{socket.gethostname()}-{os.getpid()}.json"
    every = RECOVER_EVERY_S_REDIS if registry is not None else RECOVER_EVERY_S

    def beat() -> None:
        if registry is not None:
            registry.advertise(info)
        else:
            atomic_write_text(beat_file, json.dumps({**info, "beat": time.time()}))

    stale_s = float(settings.job_stale_s)
    beat_every, recover_every = min(BEAT_EVERY_S, stale_s / 4), min(every, stale_s / 2)

    def recover_loop() -> None:
        last = time.monotonic()
        while not stop.wait(beat_every):
            try:
                beat()
                if time.monotonic() - last >= recover_every:
                    last = time.monotonic()
                    recover(settings, queue)
            except Exception as exc:  # noqa: BLE001 - Redis or the database away: next round
                log.warning("worker beat/recovery failed: %s", exc, exc_info=log.isEnabledFor(logging.DEBUG))

    beat()
    recover(settings, queue)

    thread = threading.Thread(target=recover_loop, daemon=True, name="persona-recover")
    consumer = huey.create_consumer(
        workers=workers or default_worker_count(settings),
        worker_type="process",
        periodic=False,
        initial_delay=0.05 if registry is None else 0.1,
        backoff=1.2 if registry is None else 2.0,
        max_delay=0.25 if registry is None else 5.0,  # Redis: only read errors sleep (BRPOP blocks)
        check_worker_health=True,
        health_check_interval=5,
    )
    thread.start()
    try:
        consumer.run()
    finally:
        stop.set()
        beat_file.unlink(missing_ok=True)
        if registry is not None:
            with contextlib.suppress(Exception):
                registry.withdraw(info["id"])


def workers_dir(settings: Settings) -> Path:
    return Path(settings.jobs_dir) / "workers"


def live_workers(settings: Settings, stale_s: float = 30.0) -> list[dict]:
    """Workers whose heartbeat is fresh (for ``/api/health``): in Redis, else the heartbeat files."""
    if settings.redis_url:
        from persona.jobs.cluster import WorkerRegistry

        return WorkerRegistry(settings.redis_url).live()
    out = []
    folder = workers_dir(settings)
    if folder.is_dir():
        for path in folder.glob("*.json"):
            try:
                info = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if time.time() - float(info.get("beat", 0)) <= stale_s:
                out.append(info)
    return out
