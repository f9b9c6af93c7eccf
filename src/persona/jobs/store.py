"""Persisted job state: one table shared by the web processes and the workers.

The queue library (huey) only carries "run job <id>" messages; everything a client sees lives
here: status (queued, running, succeeded, failed, cancelled), stage, progress, message, ETA,
metrics, result, error, timestamps, the cancel flag, and which worker runs the job (host, pid,
heartbeat) so that a restart can tell orphaned jobs from live ones. Every visible change bumps a
global ``seq`` so a web process can stream changes with one indexed query.

Fencing: each run of a job (an *attempt*) gets a fresh ``attempt_token`` from ``claim``. Only the
current attempt may ``report``, ``heartbeat`` or ``finish`` (each is one UPDATE conditioned on the
token and on ``status = 'running'``); recovery supersedes an attempt by clearing the token it saw,
so a worker that was paused past the heartbeat timeout finds its token stale, stops, and writes
nothing. A terminal status is never changed: no update applies to a finished row.

The table lives in the embedded SQLite file (WAL) by default or in PostgreSQL
(``PERSONA_DATABASE_URL``), through SQLAlchemy Core: ``persona.db`` owns the schema, its
Alembic migrations and the write lock that keeps ``seq`` in commit order.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypedDict

from sqlalchemy import case, func, insert, select, update

from persona import db
from persona.clock import now_iso
from persona.db import jobs
from persona.errors import PersonaError
from persona.settings import Settings

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE = ("queued", "running")
TERMINAL = ("succeeded", "failed", "cancelled")
_JSON_COLS = ("metrics", "params", "result", "error")


class NewJob(TypedDict, total=False):
    """What a new job may say besides its kind and params (``JobStore.create``'s defaults)."""

    model: str | None  # the voice model it uses or trains
    job_id: str | None  # None: a fresh ``new_job_id()``
    owner: str  # '' : the local owner


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


def _next_seq():
    return select(func.coalesce(func.max(jobs.c.seq), 0) + 1).scalar_subquery()


class JobStore:
    """Thread- and process-safe access to the jobs table (engines per process, see ``db``)."""

    def __init__(self, settings: Settings) -> None:
        self.url = db.database_url(settings)
        self._db = db.engines(self.url)
        self.path = Path(self._db.url.database) if self._db.is_sqlite else None
        db.ensure_schema(self.url)

    # ---- rows <-> dicts -------------------------------------------------------------------
    @staticmethod
    def _row(row) -> dict[str, Any]:
        d = dict(row._mapping)
        for col in _JSON_COLS:
            d[col] = json.loads(d[col]) if d[col] else None
        d["metrics"] = d["metrics"] or {}
        d["params"] = d["params"] or {}
        return d

    def _all(self, stmt) -> list[dict[str, Any]]:
        with self._db.reading() as conn:
            return [self._row(r) for r in conn.execute(stmt)]

    def _scalar(self, stmt) -> Any:
        with self._db.reading() as conn:
            return conn.execute(stmt).scalar()

    # ---- queries -----------------------------------------------------------------------------
    def get(self, job_id: str) -> dict[str, Any]:
        rows = self._all(select(jobs).where(jobs.c.id == str(job_id)))
        if not rows:
            raise PersonaError("job_not_found", f"no job with id {job_id!r}", status=404)
        return rows[0]

    def list(
        self,
        *,
        status: Iterable[str] | None = None,
        kind: str | None = None,
        limit: int = 200,
        owner: str | None = None,
    ) -> list[dict]:
        """Newest first; ``owner``: only that person's jobs (None: everyone's, for admin and recovery)."""
        stmt = select(jobs)
        if owner is not None:
            stmt = stmt.where(jobs.c.owner == owner)
        if status:
            stmt = stmt.where(jobs.c.status.in_(list(status)))
        if kind:
            stmt = stmt.where(jobs.c.kind == kind)
        stmt = stmt.order_by(jobs.c.created_at.desc(), jobs.c.seq.desc()).limit(int(limit))
        return self._all(stmt)

    def count_active(self) -> dict[str, int]:
        """``{"queued": n, "running": m}`` in one grouped query."""
        stmt = select(jobs.c.status, func.count()).where(jobs.c.status.in_(ACTIVE)).group_by(jobs.c.status)
        with self._db.reading() as conn:
            found = dict(conn.execute(stmt).all())
        return {s: int(found.get(s, 0)) for s in ACTIVE}

    def changes_since(self, seq: int) -> list[dict[str, Any]]:
        return self._all(select(jobs).where(jobs.c.seq > int(seq)).order_by(jobs.c.seq))

    def max_seq(self) -> int:
        return int(self._scalar(select(func.coalesce(func.max(jobs.c.seq), 0))))

    def model_in_use(self, name: str, owner: str = "") -> bool:
        """True while a queued or running job of ``owner`` uses (or trains) model ``name``."""
        stmt = (
            select(jobs.c.id)
            .where(
                jobs.c.status.in_(ACTIVE),
                func.lower(jobs.c.model) == str(name).lower(),
                jobs.c.owner == owner,
            )
            .limit(1)
        )
        return self._scalar(stmt) is not None

    # ---- changes -------------------------------------------------------------------------------
    def create(
        self,
        kind: str,
        params: dict[str, Any],
        *,
        model: str | None = None,
        job_id: str | None = None,
        owner: str = "",
    ) -> dict:
        job_id = job_id or new_job_id()
        ts = now_iso()
        with self._db.writing() as conn:
            conn.execute(
                insert(jobs).values(
                    id=job_id,
                    kind=kind,
                    status="queued",
                    stage="queued",
                    message="waiting in the queue",
                    params=json.dumps(params, ensure_ascii=False),
                    model=model,
                    owner=owner,
                    created_at=ts,
                    updated_at=ts,
                    updated_ts=time.time(),
                    seq=_next_seq(),
                )
            )
        return self.get(job_id)

    def _update(self, job_id: str, *where, bump: bool = True, **cols: Any) -> bool:
        """One conditional UPDATE (``where``: extra conditions); True when a row changed."""
        values: dict[str, Any] = {}
        for key, value in cols.items():
            if key in _JSON_COLS and value is not None and not hasattr(value, "compile"):
                value = json.dumps(value, ensure_ascii=False)
            values[key] = value
        if bump:
            values.update(updated_at=now_iso(), updated_ts=time.time(), seq=_next_seq())
        stmt = update(jobs).where(jobs.c.id == str(job_id), *where).values(**values)
        with self._db.writing() as conn:
            return conn.execute(stmt).rowcount > 0

    def claim(self, job_id: str) -> str | None:
        """queued -> running for this process; returns the new attempt's fencing token, or None
        when the job is gone, cancelled or taken. ``started_at`` keeps the first start."""
        token = uuid.uuid4().hex
        ok = self._update(
            job_id,
            jobs.c.status == "queued",
            status="running",
            stage="starting",
            message="",
            started_at=func.coalesce(jobs.c.started_at, now_iso()),
            worker_host=socket.gethostname(),
            worker_pid=os.getpid(),
            heartbeat=time.time(),
            attempts=jobs.c.attempts + 1,
            attempt_token=token,
        )
        return token if ok else None

    @staticmethod
    def _current(token: str | None) -> tuple:
        return (jobs.c.status == "running", jobs.c.attempt_token.is_not_distinct_from(token))

    def is_current(self, job_id: str, token: str) -> bool:
        """True while ``token`` is the running attempt's (not superseded, not finished)."""
        stmt = select(jobs.c.id).where(jobs.c.id == str(job_id), *self._current(token))
        return self._scalar(stmt) is not None

    def stop_reason(self, job_id: str, token: str) -> str | None:
        """Why attempt ``token`` should stop now: ``superseded`` (not the current attempt any
        more, or the job ended), ``cancel`` (the user asked), or None (keep going)."""
        stmt = select(jobs.c.status, jobs.c.attempt_token, jobs.c.cancel_requested).where(
            jobs.c.id == str(job_id)
        )
        with self._db.reading() as conn:
            row = conn.execute(stmt).first()
        if row is None or row.status != "running" or row.attempt_token != token:
            return "superseded"
        return "cancel" if row.cancel_requested else None

    def report(
        self,
        job_id: str,
        token: str,
        *,
        stage: str,
        progress: float,
        message: str,
        eta_s: float | None,
        metrics: dict,
    ) -> bool:
        """Write attempt ``token``'s progress; False (nothing written) when it is not current."""
        return self._update(
            job_id,
            *self._current(token),
            stage=stage,
            progress=progress,
            message=message,
            eta_s=eta_s,
            metrics=metrics,
        )

    def heartbeat(self, job_id: str, token: str) -> bool:
        return self._update(job_id, *self._current(token), bump=False, heartbeat=time.time())

    def finish(
        self,
        job_id: str,
        token: str,
        status: str,
        *,
        result: dict | None = None,
        error: dict | None = None,
        message: str = "",
    ) -> bool:
        """End attempt ``token``: True when this call set the terminal status. Refused (False) for
        a stale token or a job already ended; ``succeeded`` is also refused once a cancel was asked
        (the caller then rolls its output back and finishes ``cancelled``), so a cancel answered
        202 never ends ``succeeded``."""
        assert status in TERMINAL
        cols: dict[str, Any] = {
            "status": status,
            "result": result,
            "error": error,
            "finished_at": now_iso(),
            "eta_s": None,
            "heartbeat": None,
        }
        if status == "succeeded":
            cols.update(progress=1.0, stage="done")
        cols["message"] = message
        where = list(self._current(token))
        if status == "succeeded":
            where.append(jobs.c.cancel_requested == 0)
        return self._update(job_id, *where, **cols)

    def fail_queued(self, job_id: str, error: dict[str, str]) -> bool:
        """A queued job that could not be enqueued at all (no attempt exists yet)."""
        return self._update(
            job_id,
            jobs.c.status == "queued",
            status="failed",
            error=error,
            message=error["message"],
            finished_at=now_iso(),
        )

    def request_cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a queued job at once; flag a running one (its worker stops at the next check).
        409 ``job_finished`` when it has already ended, also when it ended during this call."""
        job = self.get(job_id)
        if job["status"] not in TERMINAL:
            if self._update(
                job_id,
                jobs.c.status == "queued",
                status="cancelled",
                cancel_requested=1,
                finished_at=now_iso(),
                message="cancelled",
            ):
                return self.get(job_id)
            if self._update(job_id, jobs.c.status == "running", cancel_requested=1, message="stopping…"):
                return self.get(job_id)
            job = self.get(job_id)
        raise PersonaError("job_finished", f"job {job_id} has already {job['status']}", status=409)

    def cancel_all_of(self, owner: str) -> list[str]:
        """Stop every job of ``owner`` (a disabled person): queued ones are cancelled, running
        ones asked to stop (their worker stops at its next check). Returns the job ids."""
        stopped = []
        for job in self.list(status=list(ACTIVE), owner=owner, limit=100_000):
            try:
                self.request_cancel(job["id"])
                stopped.append(job["id"])
            except PersonaError:  # it ended meanwhile
                continue
        return stopped

    def wait_ended(self, job_ids: Iterable[str], timeout_s: float, every_s: float = 0.2) -> bool:
        """Wait until none of ``job_ids`` is queued or running (True), or ``timeout_s`` passes."""
        ids = [str(i) for i in job_ids]
        deadline = time.monotonic() + timeout_s
        while True:
            stmt = select(func.count()).select_from(jobs).where(jobs.c.id.in_(ids), jobs.c.status.in_(ACTIVE))
            if not ids or not self._scalar(stmt):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(every_s)

    def cancel_requested(self, job_id: str) -> bool:
        return bool(self._scalar(select(jobs.c.cancel_requested).where(jobs.c.id == str(job_id))))

    def requeue(
        self,
        job_id: str,
        token: str | None,
        *,
        params: dict | None = None,
        message: str,
        count_attempt: bool = True,
    ) -> bool:
        """running (orphaned attempt ``token``) -> queued again, superseding that attempt; atomic
        so one recoverer wins. ``count_attempt=False``: the attempt never started its work (it only
        waited for the device), so it does not use up one of the job's tries."""
        cols: dict[str, Any] = {
            "status": "queued",
            "stage": "queued",
            "message": message,
            "cancel_requested": 0,
            "attempt_token": None,
            "heartbeat": None,
        }
        if params is not None:
            cols["params"] = params
        if not count_attempt:
            cols["attempts"] = case((jobs.c.attempts > 0, jobs.c.attempts - 1), else_=0)
        return self._update(job_id, *self._current(token), **cols)

    def reroute(self, job_id: str, queue_class: str) -> bool:
        """A still-queued job goes to another device-class queue (scale-out); False if it started."""
        job = self.get(job_id)
        params = {**job["params"], "_queue": queue_class}
        return self._update(job_id, jobs.c.status == "queued", bump=False, params=params)

    def finish_orphan(
        self,
        job_id: str,
        token: str | None,
        status: str,
        *,
        result: dict | None = None,
        error: dict[str, str] | None = None,
        message: str = "",
    ) -> bool:
        """End a running job whose attempt ``token`` is gone (recovery): failed or cancelled."""
        assert status in ("failed", "cancelled")
        return self._update(
            job_id,
            *self._current(token),
            status=status,
            result=result,
            error=error,
            message=message or (error or {}).get("message", ""),
            finished_at=now_iso(),
            eta_s=None,
            attempt_token=None,
            heartbeat=None,
        )

    def fail_orphan(self, job_id: str, token: str | None, error: dict[str, str]) -> bool:
        return self.finish_orphan(job_id, token, "failed", error=error)


STOP_WAIT_S = 30.0  # how long erasing a person waits for their running jobs to stop


def stop_person_jobs(settings: Settings, owner: str) -> None:
    """An account eraser (``persona.accounts.erase.DATA_ERASERS``, before the data's): stop every
    job of ``owner`` and wait for running ones to end, so no worker writes into their folders
    after those are erased (a job that does not stop in time is erased anyway; its worker finds
    its row gone and removes its own folder)."""
    store = JobStore(settings)
    store.wait_ended(store.cancel_all_of(owner), STOP_WAIT_S)
