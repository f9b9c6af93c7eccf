"""A job as the outside world sees it: the one place its public shape is built.

The REST answers (``GET /api/jobs/{id}``, the ``job`` of a ``202``) and the Socket.IO events
(``job_progress``, ``job_done``, ``job_failed``, ``job_cancelled``) share the same state fields;
only the id's name differs, as API.md promises (``id`` in a REST job, ``job_id`` in an event).
Server-side parameters (``_``-prefixed: stored file names, the queue class) never leave; the
progress message's code and params travel beside ``metrics``, not inside it. ``JOB_SCHEMA`` is
the same shape for OpenAPI (``persona.server.openapi``), and a test holds the two together.
"""

from __future__ import annotations

from typing import Any

from persona.jobs.kinds import NAMES
from persona.jobs.store import STATUSES

STATE_FIELDS = (
    "kind",
    "status",
    "stage",
    "progress",
    "message",
    "message_code",
    "message_params",
    "eta_s",
    "metrics",
    "cancel_requested",
)
# Each Socket.IO event and the fields it carries (OpenAPI's description is written from this).
EVENTS: dict[str, tuple[str, ...]] = {
    "job_progress": ("job_id", *STATE_FIELDS, "reported_at", "queue"),
    "job_done": ("job_id", "kind", "result"),
    "job_failed": ("job_id", "kind", "error"),
    "job_cancelled": ("job_id", "kind", "result"),
}


def _state(job: dict[str, Any]) -> dict[str, Any]:
    """What a client follows while a job runs (REST and events alike)."""
    metrics = dict(job["metrics"] or {})
    return {
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
    }


def public_job(job: dict[str, Any]) -> dict[str, Any]:
    """The API's job object (API.md), plus ``params`` without server-side paths."""
    return {
        "id": job["id"],
        **_state(job),
        "result": job["result"],
        "error": job["error"],
        "params": {k: v for k, v in job["params"].items() if not k.startswith("_")},
        "model": job["model"],
        "attempts": job["attempts"],
        "created_at": job["created_at"],
        "updated_at": job["updated_at"],
        "started_at": job["started_at"],
        "finished_at": job["finished_at"],
    }


def progress_event(job: dict[str, Any]) -> dict[str, Any]:
    """``job_progress``'s payload (without ``queue``, which the broadcaster adds)."""
    return {
        "job_id": job["id"],
        **_state(job),
        "reported_at": job.get("updated_ts"),  # unix time the worker wrote this state
    }


def final_event(job: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The event that tells a finished job's end (None while it runs)."""
    base = {"job_id": job["id"], "kind": job["kind"]}
    if job["status"] == "succeeded":
        return "job_done", {**base, "result": job["result"]}
    if job["status"] == "failed":
        return "job_failed", {**base, "error": job["error"] or {"code": "failed", "message": job["message"]}}
    if job["status"] == "cancelled":
        return "job_cancelled", {**base, "result": job["result"]}
    return None


_NULLABLE_OBJECT = {"type": ["object", "null"]}
_TIME = {"type": ["string", "null"]}
JOB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "kind": {"type": "string", "enum": list(NAMES)},
        "status": {"type": "string", "enum": list(STATUSES)},
        "stage": {"type": "string"},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "message": {"type": "string"},
        "message_code": {"type": "string", "description": "the message's code in the page's catalogue"},
        "message_params": {"type": "object"},
        "eta_s": {"type": ["number", "null"]},
        "metrics": {"type": "object"},
        "cancel_requested": {"type": "boolean"},
        "result": {**_NULLABLE_OBJECT, "description": "per kind: see x-job-kinds"},
        "error": _NULLABLE_OBJECT,
        "params": {"type": "object"},
        "model": {"type": ["string", "null"]},
        "attempts": {"type": "integer"},
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
        "started_at": _TIME,
        "finished_at": _TIME,
        "queue": {
            "type": ["object", "null"],
            "description": "a queued job's {position, wait_s}",
        },
    },
}
