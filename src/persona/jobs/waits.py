"""Where a queued job stands: its place in the queue and an estimated wait.

Place: 1 + the device jobs that start before it, in the fair order the workers follow
(``persona.jobs.fairness``: across people, then first come; weights downloads run beside the
device work, so they neither wait for it nor hold anyone up). A job a worker has taken but that
still waits for the device (stage "waiting") is in the line too, ahead of the queued ones: to the
person it is queued, with a place and a wait. Wait: what the running device
jobs have left (their ``eta_s``; a kind's typical run time when they give none), plus a typical
run of each job ahead. A kind's typical run is the median of its last few successful runs on
this server; with none yet the wait is unknown (None) rather than a guess.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from persona.jobs import fairness
from persona.jobs.kinds import uses_device
from persona.jobs.store import JobStore

HISTORY = 5


def _seconds(a: str | None, b: str | None) -> float | None:
    if not a or not b:
        return None
    try:
        return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()
    except ValueError:
        return None


def typical_run_s(store: JobStore, kind: str) -> float | None:
    runs = [
        _seconds(j.get("started_at"), j.get("finished_at"))
        for j in store.list(status=["succeeded"], kind=kind, limit=HISTORY)
    ]
    runs = [r for r in runs if r is not None and r >= 0]
    return statistics.median(runs) if runs else None


def in_line(job: dict[str, Any]) -> bool:
    """Queued, or taken by a worker that waits for the device: either way not yet running."""
    return job["status"] == "queued" or (job["status"] == "running" and job.get("stage") == "waiting")


def queue_info(store: JobStore) -> dict[str, dict[str, Any]]:
    """``{job_id: {"position": n, "wait_s": seconds | None}}`` for every device job in line."""
    active = store.list(status=["queued", "running"], limit=1000)
    device = [j for j in active if uses_device(j["kind"])]
    if not any(in_line(j) for j in device):
        return {}
    typical: dict[str, float | None] = {}

    def run_s(kind: str) -> float | None:
        if kind not in typical:
            typical[kind] = typical_run_s(store, kind)
        return typical[kind]

    wait: float | None = 0.0
    for job in (j for j in device if not in_line(j)):
        left = job["eta_s"] if job["eta_s"] is not None else run_s(job["kind"])
        wait = None if wait is None or left is None else wait + float(left)
    out: dict[str, dict[str, Any]] = {}
    # a worker that took a job and still waits for the device goes first, then the fair queue
    taken = sorted((j for j in device if in_line(j) and j["status"] == "running"), key=lambda j: j["seq"])
    queued = taken + fairness.next_in_line(store)
    for place, job in enumerate(queued, start=1):
        out[job["id"]] = {"position": place, "wait_s": None if wait is None else round(wait, 1)}
        own = run_s(job["kind"])
        wait = None if wait is None or own is None else wait + own
    return out
