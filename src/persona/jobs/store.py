"""Persisted job state: one SQLite table (WAL) shared by the web process and the workers.

The queue library (huey) only carries "run job <id>" messages; everything a client sees lives
here: status (queued, running, succeeded, failed, cancelled), stage, progress, message, ETA,
metrics, result, error, timestamps, the cancel flag, and which worker runs the job (host, pid,
heartbeat) so that a restart can tell orphaned jobs from live ones. Every visible change bumps a
global ``seq`` so the web process can stream changes with one indexed query.
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

    def _update(self, job_id: str, where: str = "", **cols: Any) -> bool:
        sets, args = [], []
        for key, value in cols.items():
            if key in _JSON_COLS and value is not None:
                value = json.dumps(value, ensure_ascii=False)
            sets.append(f"{key} = ?")
            args.append(value)
        sets.append("updated_at = ?")
        args.append(now_iso())
        sets.append("updated_ts = ?")
        args.append(time.time())
        sql = f"UPDATE jobs SET {', '.join(sets)}, seq = {_next_seq()} WHERE id = ?{where}"
        cur = self._conn().execute(sql, [*args, job_id])
        return cur.rowcount > 0

    def claim(self, job_id: str) -> bool:
        """queued -> running for this process; False when the job is gone, cancelled or taken."""
        return self._update(
            job_id,
            " AND status = 'queued'",
            status="running",
            stage="starting",
            message="",
            started_at=now_iso(),
            worker_host=socket.gethostname(),
            worker_pid=os.getpid(),
            heartbeat=time.time(),
            attempts=self.get(job_id)["attempts"] + 1 if self._exists(job_id) else 1,
        )

    def _exists(self, job_id: str) -> bool:
        return self._conn().execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,)).fetchone() is not None

    def report(
        self, job_id: str, *, stage: str, progress: float, message: str, eta_s: float | None, metrics: dict
    ) -> None:
        self._update(
            job_id,
            " AND status = 'running'",
            stage=stage,
            progress=progress,
            message=message,
            eta_s=eta_s,
            metrics=metrics,
        )

    def heartbeat(self, job_id: str) -> None:
        self._conn().execute("UPDATE jobs SET heartbeat = ? WHERE id = ?", (time.time(), job_id))

    def finish(
        self,
        job_id: str,
        status: str,
        *,
        result: dict | None = None,
        error: dict | None = None,
        message: str = "",
    ) -> None:
        assert status in TERMINAL
        cols: dict[str, Any] = {
            "status": status,
            "result": result,
            "error": error,
            "finished_at": now_iso(),
            "eta_s": None,
        }
        if status == "succeeded":
            cols.update(progress=1.0, stage="done")
        cols["message"] = message
        self._update(job_id, **cols)

    def request_cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a queued job at once; flag a running one (its worker stops at the next check)."""
        job = self.get(job_id)
        if job["status"] in TERMINAL:
            raise PersonaError("job_finished", f"job {job_id} has already {job['status']}", status=409)
        if self._update(
            job_id,
            " AND status = 'queued'",
            status="cancelled",
            cancel_requested=1,
            finished_at=now_iso(),
            message="cancelled",
        ):
            return self.get(job_id)
        self._update(job_id, " AND status = 'running'", cancel_requested=1, message="stopping…")
        return self.get(job_id)

    def cancel_requested(self, job_id: str) -> bool:
        row = self._conn().execute("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return bool(row and row[0])

    def requeue(
        self, job_id: str, *, worker_pid: int | None, params: dict | None = None, message: str
    ) -> bool:
        """running (orphaned by ``worker_pid``) -> queued again; atomic so one recoverer wins."""
        cols: dict[str, Any] = {
            "status": "queued",
            "stage": "queued",
            "message": message,
            "cancel_requested": 0,
        }
        if params is not None:
            cols["params"] = params
        return self._requeue(job_id, worker_pid, cols)

    def _requeue(self, job_id: str, worker_pid: int | None, cols: dict[str, Any]) -> bool:
        sets, args = [], []
        for key, value in cols.items():
            if key in _JSON_COLS and value is not None:
                value = json.dumps(value, ensure_ascii=False)
            sets.append(f"{key} = ?")
            args.append(value)
        sql = (
            f"UPDATE jobs SET {', '.join(sets)}, updated_at = ?, seq = {_next_seq()}"
            " WHERE id = ? AND status = 'running' AND worker_pid IS ?"
        )
        cur = self._conn().execute(sql, [*args, now_iso(), job_id, worker_pid])
        return cur.rowcount > 0

    def fail_orphan(self, job_id: str, worker_pid: int | None, error: dict[str, str]) -> bool:
        cur = self._conn().execute(
            f"UPDATE jobs SET status = 'failed', error = ?, message = ?, finished_at = ?, updated_at = ?, seq = {_next_seq()}"
            " WHERE id = ? AND status = 'running' AND worker_pid IS ?",
            (json.dumps(error), error["message"], now_iso(), now_iso(), job_id, worker_pid),
        )
        return cur.rowcount > 0
