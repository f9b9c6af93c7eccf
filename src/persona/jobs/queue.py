"""The job queue: huey carrying "run job <id>"; ``SqliteHuey`` embedded, ``RedisHuey`` for scale-out.

``JobQueue(settings)`` is what the web process and the CLI use: ``submit`` writes the job row
(state lives in ``JobStore``) and enqueues it; ``cancel`` flags it. The worker side
(``persona.jobs.worker``) consumes the same queue with worker *processes*.

Embedded (no ``PERSONA_REDIS_URL``): one queue, the file ``jobs_dir/queue.sqlite3``. With Redis:
one huey queue per device class (``persona.cuda``, ``persona.cpu``; see ``cluster.route``), the
class a job was sent to kept in its params as ``_queue``. huey deletes a message when a worker
takes it, so a job interrupted mid-run is found again by ``recover()`` from the job table, not
the queue; a submit while Redis is down keeps the job ``queued`` and recovery enqueues it once
Redis answers again.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Unpack

from huey import Huey, SqliteHuey

from persona.disk import require_free
from persona.jobs.kinds import uses_device
from persona.jobs.store import JobStore, NewJob
from persona.settings import Settings

log = logging.getLogger(__name__)
TASK_NAME = "persona.run_job"
EMBEDDED = "local"  # the one queue class of the embedded SQLite queue


def make_huey(
    settings: Settings, handlers: dict | None = None, queue_class: str | None = None
) -> tuple[Huey, Any]:
    """The huey instance and its one task; ``handlers`` are needed only where jobs run.
    ``queue_class`` (Redis only): which device-class queue (``cuda`` or ``cpu``)."""
    if settings.redis_url:
        from huey import RedisHuey

        from persona.jobs.cluster import redis_client

        cls = queue_class or "cpu"
        huey: Huey = RedisHuey(
            name=f"persona.{cls}",
            connection_pool=redis_client(settings.redis_url).connection_pool,
            results=False,
            store_none=False,
            utc=True,
            blocking=True,
            read_timeout=1,
        )
    else:
        cls = EMBEDDED
        Path(settings.jobs_dir).mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(
            name="persona",
            filename=str(Path(settings.jobs_dir) / "queue.sqlite3"),
            results=False,
            store_none=False,
            utc=True,
            timeout=30,
        )

    @huey.task(name=TASK_NAME)
    def run_job_task(job_id: str) -> None:
        from persona.jobs.handlers import default_handlers
        from persona.jobs.runner import run_job

        run_job(
            settings,
            job_id,
            handlers if handlers is not None else default_handlers(),
            queue_class=None if cls == EMBEDDED else cls,
        )

    return huey, run_job_task


class JobQueue:
    """Submit, inspect and cancel jobs (web process and CLI side)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = JobStore(settings)
        self._tasks: dict[str, tuple[Huey, Any]] = {}
        if settings.redis_url:
            from persona.jobs.cluster import DEVICE_CLASSES, WorkerRegistry

            self.registry: Any = WorkerRegistry(settings.redis_url)
            for cls in DEVICE_CLASSES:
                self._tasks[cls] = make_huey(settings, queue_class=cls)
        else:
            self.registry = None
            self._tasks[EMBEDDED] = make_huey(settings)
        self.huey, self._task = next(iter(self._tasks.values()))

    def job_dir(self, job_id: str) -> Path:
        return Path(self.settings.jobs_dir) / job_id

    def route(self, kind: str) -> str | None:
        """The device-class queue a new job of ``kind`` goes to (None: the embedded queue)."""
        if self.registry is None:
            return None
        from persona.jobs.cluster import route

        try:
            live = self.registry.classes()
        except Exception:  # noqa: BLE001 - Redis down: the job waits; recovery routes it again
            live = set()
        return route(uses_device(kind), live)

    def submit(self, kind: str, params: dict[str, Any], **fields: Unpack[NewJob]) -> dict:
        """Record (``JobStore.create``) and enqueue a job."""
        require_free(self.settings.jobs_dir, self.settings.min_free_mb)  # disk_full before a job exists
        cls = self.route(kind)
        if cls is not None:
            params = {**params, "_queue": cls}
        job = self.store.create(kind, params, **fields)
        try:
            self.enqueue_existing(job["id"], cls)
        except Exception as exc:
            if self.registry is not None:  # the row is safe in the store; recovery enqueues it later
                log.warning("job %s waits for Redis: %s", job["id"], exc)
                return job
            self.store.fail_queued(job["id"], {"code": "queue_unavailable", "message": str(exc)})
            raise
        return self.store.get(job["id"])

    def enqueue_existing(self, job_id: str, queue_class: str | None = None) -> None:
        if self.registry is None:
            self._task(job_id)
            return
        if queue_class is None:
            queue_class = self.store.get(job_id)["params"].get("_queue") or "cpu"
        self._tasks[queue_class][1](job_id)

    def pending_ids(self, queue_class: str | None = None) -> set[str]:
        ids = set()
        for cls, (huey, _) in self._tasks.items():
            if queue_class is not None and cls != queue_class:
                continue
            for task in huey.pending():
                if task.args:
                    ids.add(str(task.args[0]))
        return ids

    def cancel(self, job_id: str) -> dict:
        return self.store.request_cancel(job_id)
