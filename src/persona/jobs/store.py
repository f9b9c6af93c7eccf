"""Persisted job state: one SQLite table (WAL) shared by the web process and the workers.

The queue library (huey) only carries "run job <id>" messages; everything a client sees lives
here: status (queued, running, succeeded, failed, cancelled), stage, progress, message, ETA,
metrics, result, error, timestamps, the cancel flag, and which worker runs the job (host, pid,
heartbeat) so that a restart can tell orphaned jobs from live ones. Every visible change bumps a
global ``seq`` so the web process can stream changes with one indexed query.

Fencing: each run of a job (an *attempt*) gets a fresh ``attempt_token`` from ``claim``. Only the
current attempt may ``report``, ``heartbeat`` or ``finish`` (each is one UPDATE conditioned on the
token and on ``status = 'running'``); recovery supersedes an attempt by clearing the token it saw,
so a worker that was paused past the heartbeat timeout finds its token stale, stops, and writes
nothing. A terminal status is never changed: no update applies to a finished row.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from persona.errors import PersonaError
from persona.library.models import now_iso
from persona.settings import Settings

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE = ("queued", "running")
TERMINAL = ("succeeded", "failed", "cancelled")
_JSON_COLS = ("metrics", "params", "result", "error")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  stage TEXT NOT NULL DEFAULT '',
  progress REAL NOT NULL DEFAULT 0,
  message TEXT NOT NULL DEFAULT '',
  eta_s REAL,
  metrics TEXT NOT NULL DEFAULT '{}',
  params TEXT NOT NULL DEFAULT '{}',
  result TEXT,
  error TEXT,
  model TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_ts REAL,
  started_at TEXT,
  finished_at TEXT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  worker_host TEXT,
  worker_pid INTEGER,
  heartbeat REAL,
  attempt_token TEXT,
  seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_seq ON jobs(seq);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
"""


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


def _next_seq() -> str:
    return "(SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs)"


class JobStore:
    """Thread- and process-safe access to the jobs table (one connection per thread and process)."""

    def __init__(self, settings: Settings) -> None:
        self.path = Path(settings.jobs_dir) / "jobs.sqlite3"
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as conn:
            conn.executescript(_SCHEMA)
            cols = {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
            if "updated_ts" not in cols:  # stores written by an earlier version
                conn.execute("ALTER TABLE jobs ADD COLUMN updated_ts REAL")
            if "attempt_token" not in cols:
                conn.execute("ALTER TABLE jobs ADD COLUMN attempt_token TEXT")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    # ---- rows <-> dicts -------------------------------------------------------------------
    @staticmethod
    def _row(row: sqlite3.Row) -> dict[str, Any]:
        d = dict(row)
        for col in _JSON_COLS:
            d[col] = json.loads(d[col]) if d[col] else None
        d["metrics"] = d["metrics"] or {}
        d["params"] = d["params"] or {}
        return d

    @staticmethod
    def public(job: dict[str, Any]) -> dict[str, Any]:
        """The API's job object (API.md), plus ``params`` without server-side paths."""
        params = {k: v for k, v in job["params"].items() if not k.startswith("_")}
        metrics = dict(job["metrics"] or {})
        return {
            "id": job["id"],
            "kind": job["kind"],
            "status": job["status"],
            "stage": job["stage"],
            "progress": job["progress"],
            "message": job["message"],
            "message_code": metrics.pop("message_code", "") or "",
            "message_params": metrics.pop("message_params", None) or {},
            "eta_s": job["eta_s"],
            "metrics": metrics,
            "cancel_requested": bool(job.get("cancel_requested")),
            "result": job["result"],
            "error": job["error"],
            "params": params,
            "model": job["model"],
            "attempts": job["attempts"],
            "created_at": job["created_at"],
            "updated_at": job["updated_at"],
            "started_at": job["started_at"],
            "finished_at": job["finished_at"],
        }

    # ---- queries -----------------------------------------------------------------------------
    def get(self, job_id: str) -> dict[str, Any]:
        row = self._conn().execute("SELECT * FROM jobs WHERE id = ?", (str(job_id),)).fetchone()
        if row is None:
            raise PersonaError("job_not_found", f"no job with id {job_id!r}", status=404)
        return self._row(row)

    def list(
        self, *, status: Iterable[str] | None = None, kind: str | None = None, limit: int = 200
    ) -> list[dict]:
        sql, args = "SELECT * FROM jobs WHERE 1=1", []
        if status:
            status = list(status)
            sql += f" AND status IN ({','.join('?' * len(status))})"
            args += status
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        sql += " ORDER BY created_at DESC, seq DESC LIMIT ?"
        args.append(int(limit))
        return [self._row(r) for r in self._conn().execute(sql, args)]

    def changes_since(self, seq: int) -> list[dict[str, Any]]:
        rows = self._conn().execute("SELECT * FROM jobs WHERE seq > ? ORDER BY seq", (int(seq),)).fetchall()
        return [self._row(r) for r in rows]

    def max_seq(self) -> int:
        return int(self._conn().execute("SELECT COALESCE(MAX(seq), 0) FROM jobs").fetchone()[0])

    def model_in_use(self, name: str) -> bool:
        row = (
            self._conn()
            .execute(
                "SELECT 1 FROM jobs WHERE status IN ('queued','running') AND model = ? COLLATE NOCASE LIMIT 1",
                (name,),
            )
            .fetchone()
        )
        return row is not None

    # ---- changes -------------------------------------------------------------------------------
    def create(
        self, kind: str, params: dict[str, Any], *, model: str | None = None, job_id: str | None = None
    ) -> dict:
        job_id = job_id or new_job_id()
        ts = now_iso()
        self._conn().execute(
            f"INSERT INTO jobs (id, kind, status, stage, message, params, model, created_at, updated_at, seq)"
            f" VALUES (?, ?, 'queued', 'queued', 'waiting in the queue', ?, ?, ?, ?, {_next_seq()})",
            (job_id, kind, json.dumps(params, ensure_ascii=False), model, ts, ts),
        )
        return self.get(job_id)

    def _update(self, job_id: str, where: str = "", where_args: tuple = (), **cols: Any) -> bool:
        """One conditional UPDATE (bumps ``seq``). A value ``(sql, arg)`` is an SQL expression
        (``arg`` None: no placeholder), e.g. ``attempts=("attempts + 1", None)``."""
        sets, args = [], []
        for key, value in cols.items():
            if isinstance(value, tuple):
                expr, arg = value
                sets.append(f"{key} = {expr}")
                if arg is not None:
                    args.append(arg)
                continue
            if key in _JSON_COLS and value is not None:
                value = json.dumps(value, ensure_ascii=False)
            sets.append(f"{key} = ?")
            args.append(value)
        sets.append("updated_at = ?")
        args.append(now_iso())
        sets.append("updated_ts = ?")
        args.append(time.time())
        sql = f"UPDATE jobs SET {', '.join(sets)}, seq = {_next_seq()} WHERE id = ?{where}"
        cur = self._conn().execute(sql, [*args, job_id, *where_args])
        return cur.rowcount > 0

    def claim(self, job_id: str) -> str | None:
        """queued -> running for this process; returns the new attempt's fencing token, or None
        when the job is gone, cancelled or taken. ``started_at`` keeps the first start."""
        token = uuid.uuid4().hex
        ok = self._update(
            job_id,
            " AND status = 'queued'",
            status="running",
            stage="starting",
            message="",
            started_at=("COALESCE(started_at, ?)", now_iso()),
            worker_host=socket.gethostname(),
            worker_pid=os.getpid(),
            heartbeat=time.time(),
            attempts=("attempts + 1", None),
            attempt_token=token,
        )
        return token if ok else None

    def _exists(self, job_id: str) -> bool:
        return self._conn().execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,)).fetchone() is not None

    def is_current(self, job_id: str, token: str) -> bool:
        """True while ``token`` is the running attempt's (not superseded, not finished)."""
        row = (
            self._conn()
            .execute(
                "SELECT 1 FROM jobs WHERE id = ? AND status = 'running' AND attempt_token = ?",
                (job_id, token),
            )
            .fetchone()
        )
        return row is not None

    def stop_reason(self, job_id: str, token: str) -> str | None:
        """Why attempt ``token`` should stop now: ``superseded`` (not the current attempt any
        more, or the job ended), ``cancel`` (the user asked), or None (keep going)."""
        row = (
            self._conn()
            .execute("SELECT status, attempt_token, cancel_requested FROM jobs WHERE id = ?", (job_id,))
            .fetchone()
        )
        if row is None or row["status"] != "running" or row["attempt_token"] != token:
            return "superseded"
        return "cancel" if row["cancel_requested"] else None

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
            " AND status = 'running' AND attempt_token = ?",
            (token,),
            stage=stage,
            progress=progress,
            message=message,
            eta_s=eta_s,
            metrics=metrics,
        )

    def heartbeat(self, job_id: str, token: str) -> bool:
        cur = self._conn().execute(
            "UPDATE jobs SET heartbeat = ? WHERE id = ? AND status = 'running' AND attempt_token = ?",
            (time.time(), job_id, token),
        )
        return cur.rowcount > 0

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
        where = " AND status = 'running' AND attempt_token = ?"
        if status == "succeeded":
            where += " AND cancel_requested = 0"
        return self._update(job_id, where, (token,), **cols)

    def fail_queued(self, job_id: str, error: dict[str, str]) -> bool:
        """A queued job that could not be enqueued at all (no attempt exists yet)."""
        return self._update(
            job_id,
            " AND status = 'queued'",
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
                " AND status = 'queued'",
                status="cancelled",
                cancel_requested=1,
                finished_at=now_iso(),
                message="cancelled",
            ):
                return self.get(job_id)
            if self._update(job_id, " AND status = 'running'", cancel_requested=1, message="stopping…"):
                return self.get(job_id)
            job = self.get(job_id)
        raise PersonaError("job_finished", f"job {job_id} has already {job['status']}", status=409)

    def cancel_requested(self, job_id: str) -> bool:
        row = self._conn().execute("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return bool(row and row[0])

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
            cols["attempts"] = ("MAX(attempts - 1, 0)", None)
        return self._update(job_id, " AND status = 'running' AND attempt_token IS ?", (token,), **cols)

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
            " AND status = 'running' AND attempt_token IS ?",
            (token,),
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
