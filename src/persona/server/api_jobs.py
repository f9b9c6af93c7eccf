"""``/api/jobs``: list, get, cancel; a queued job carries ``queue: {position, wait_s}``."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from persona.errors import PersonaError
from persona.jobs import kinds
from persona.jobs.public import public_job
from persona.jobs.store import STATUSES
from persona.jobs.waits import queue_info
from persona.server import ownership
from persona.server.services import services

bp = Blueprint("jobs", __name__)
LIST_DEFAULT, LIST_MAX = 100, 1000  # jobs a list answers with (``limit``), and at most


@bp.get("/api/jobs")
def list_jobs():
    store = services().queue.store
    status = [s for s in request.args.get("status", "").split(",") if s]
    if any(s not in STATUSES for s in status):
        raise PersonaError("param_invalid", f"'status' must be among {', '.join(STATUSES)}")
    kind = request.args.get("kind") or None
    if kind is not None:
        kinds.get(kind)  # 400 for a kind Persona does not know
    try:
        limit = min(max(int(request.args.get("limit", LIST_DEFAULT)), 1), LIST_MAX)
    except ValueError:
        raise PersonaError("param_invalid", "'limit' must be a whole number") from None
    waits = queue_info(store)
    me = ownership.owner()
    found = store.list(status=status or None, kind=kind, limit=limit, owner=me)
    jobs = [public_job(j) for j in found]
    return jsonify([{**j, "queue": waits.get(j["id"])} for j in jobs])


@bp.get("/api/jobs/<job_id>")
def get_job(job_id: str):
    store = services().queue.store
    job = ownership.job_answer(ownership.owned_job(job_id, store))
    return jsonify({**job, "queue": queue_info(store).get(job_id)})  # None unless it is in line


@bp.post("/api/jobs/<job_id>/cancel")
def cancel_job(job_id: str):
    svc = services()
    ownership.owned_job(job_id, svc.queue.store, change=True)
    job = svc.queue.cancel(job_id)
    return jsonify(ownership.job_answer(job)), 202
