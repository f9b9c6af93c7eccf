"""Which queued device job runs next: fair across people, first come first served within one.

When a device slot frees, the next job is the oldest queued job of the person served least: the
fewest device jobs running now, then the longest since their last start (never beats any time),
then the oldest job. So with one person's ten covers queued, another person's cover starts after
at most the one that is running, and two busy people alternate. With no accounts every job has
the same owner ("") and this is plain first come, first served.

``waits.queue_info`` shows places in this same order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from persona.jobs import kinds
from persona.jobs.store import JobStore

RECENT = 500  # ended jobs looked at for each person's last start


def owner_of(job: dict[str, Any]) -> str:
    return job.get("owner") or ""


def device_use_of(job: dict[str, Any]) -> str | None:
    """How ``job`` uses the device: its kind's (``kinds.EXCLUSIVE``/``SHARED``/None), unless the
    job says otherwise (``_device_use``: stand-in jobs in tests and benchmarks)."""
    return job["params"].get("_device_use", kinds.device_use(job["kind"]))


def fair_order(
    queued: Iterable[dict[str, Any]], running: Iterable[dict[str, Any]], last_start: dict[str, str]
) -> list[dict[str, Any]]:
    """``queued`` device jobs in the order they should start."""
    busy: dict[str, int] = {}
    for job in running:
        busy[owner_of(job)] = busy.get(owner_of(job), 0) + 1
    pending = sorted(queued, key=lambda j: (j["created_at"], j["seq"]))
    out: list[dict[str, Any]] = []
    served = dict(last_start)
    while pending:
        # the person served least goes next; their oldest job is the one that starts
        best = min(
            pending,
            key=lambda j: (busy.get(owner_of(j), 0), served.get(owner_of(j), ""), j["created_at"], j["seq"]),
        )
        out.append(best)
        pending.remove(best)
        who = owner_of(best)
        busy[who] = busy.get(who, 0) + 1  # as if it had started: the next pick sees it running
        served[who] = "~"  # after any ISO time: served just now
    return out


def device_jobs(
    store: JobStore, queue_class: str | None = None
) -> tuple[list[dict], list[dict], dict[str, str]]:
    """(queued, running, last start per owner) of the device jobs of ``queue_class`` (None: all)."""
    active = store.list(status=["queued", "running"], limit=100_000)  # every one: none may be missed
    ended = store.list(status=["succeeded", "failed", "cancelled"], limit=RECENT)
    recent = [j for j in active + ended if device_use_of(j) is not None]
    if queue_class is not None:
        recent = [j for j in recent if j["params"].get("_queue") in (None, queue_class)]
    last: dict[str, str] = {}
    for job in recent:
        if job.get("started_at") and job["status"] != "queued":
            who = owner_of(job)
            last[who] = max(last.get(who, ""), job["started_at"])
    queued = [j for j in recent if j["status"] == "queued"]
    running = [j for j in recent if j["status"] == "running"]
    return queued, running, last


def next_in_line(store: JobStore, queue_class: str | None = None) -> list[dict[str, Any]]:
    """The queued device jobs of ``queue_class`` in the order they should start."""
    return fair_order(*device_jobs(store, queue_class))
