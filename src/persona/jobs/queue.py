"""The job queue: huey (``SqliteHuey``, embedded, no extra service) carrying "run job <id>".

``JobQueue(settings)`` is what the web process and the CLI use: ``submit`` writes the job row
(state lives in ``JobStore``) and enqueues it; ``cancel`` flags it. The worker side
(``persona.jobs.worker``) consumes the same huey database with worker *processes*.

The queue database is ``jobs_dir/queue.sqlite3``; huey deletes a message when a worker takes
it, so a job interrupted mid-run is found again by ``recover()`` from the job table, not the queue.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from huey import SqliteHuey

from persona.jobs.store import JobStore
from persona.settings import Settings

log = logging.getLogger(__name__)
TASK_NAME = "persona.run_job"


def make_huey(settings: Settings, handlers: dict | None = None) -> tuple[SqliteHuey, Any]:
    """The huey instance and its one task; ``handlers`` are needed only where jobs run."""
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

        run_job(settings, job_id, handlers if handlers is not None else default_handlers())

    return huey, run_job_task


class JobQueue:
    """Submit, inspect and cancel jobs (web process and CLI side)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = JobStore(settings)
        self.huey, self._task = make_huey(settings)

    def job_dir(self, job_id: str) -> Path:
        return Path(self.settings.jobs_dir) / job_id

    def submit(
        self, kind: str, params: dict[str, Any], *, model: str | None = None, job_id: str | None = None
    ) -> dict:
        job = self.store.create(kind, params, model=model, job_id=job_id)
        try:
            self._task(job["id"])
        except Exception as exc:
            self.store.fail_queued(job["id"], {"code": "queue_unavailable", "message": str(exc)})
            raise
        return self.store.get(job["id"])

    def enqueue_existing(self, job_id: str) -> None:
        self._task(job_id)

    def pending_ids(self) -> set[str]:
        ids = set()
        for task in self.huey.pending():
            if task.args:
                ids.add(str(task.args[0]))
        return ids

    def cancel(self, job_id: str) -> dict:
        return self.store.request_cancel(job_id)
