"""After a restart (or a worker death): find orphaned jobs and put them right.

A ``running`` job is orphaned when its worker process is gone (same host: the pid is dead) or its
heartbeat is older than ``Settings.job_stale_s`` (any host; a paused process counts as dead).
Every change is conditioned on the attempt token recovery saw, so it supersedes exactly that
attempt: if the paused process wakes up, its writes are refused and it stops (``runner``). Then: a cancel was asked -> ``cancelled``;
otherwise the job is queued again, up to its kind's ``max_attempts`` runs (``persona.jobs.kinds``),
then failed with reason ``interrupted``: a training again with ``resume`` (its kind ``resumes``:
the trainer continues from its last checkpoint), a cover (deterministic, cached stems) from the start. ``queued`` jobs whose queue message was lost (a crash
between the row and the message, or after a worker took it) are enqueued again. Every change is
one conditional UPDATE, so several workers recovering at once cannot double-run a job. A job that
only waited for the device when it was interrupted does not use up a try, and a job given up on
has its folder (the uploaded inputs) removed. Leftover ``.tmp-*`` folders of interrupted library
writes are removed.

With Redis (scale-out) a running job is orphaned when its liveness key has expired
(``cluster.JOB_TTL_S`` after its worker's last beat, whichever host it was on), and a queued job
sitting in the queue of a device class that has no live worker any more moves to one that has.
"""

from __future__ import annotations

import logging
import shutil
import socket
import time

from persona.fsutil import remove_stale_leftovers
from persona.jobs import kinds, oom
from persona.jobs.pids import pid_alive
from persona.jobs.queue import JobQueue
from persona.params import default_of
from persona.settings import Settings

log = logging.getLogger(__name__)


def is_orphan(
    job: dict, *, now: float | None = None, stale_s: float | None = None, alive: set[str] | None = None
) -> bool:
    """``alive`` (scale-out): the running jobs whose liveness key is still in Redis. ``stale_s``:
    the heartbeat age that counts as dead (default: ``Settings.job_stale_s``'s)."""
    now = time.time() if now is None else now
    if job["worker_host"] == socket.gethostname() and not pid_alive(job["worker_pid"]):
        return True
    if alive is not None:
        from persona.jobs.cluster import JOB_TTL_S

        claimed = job["heartbeat"] or 0.0  # set at claim: a fresh claim gets its first beat's grace
        return job["id"] not in alive and now - float(claimed) > JOB_TTL_S
    if stale_s is None:
        stale_s = default_of(Settings, "job_stale_s")
    return job["heartbeat"] is not None and now - float(job["heartbeat"]) > stale_s


def recover(settings: Settings, queue: JobQueue | None = None) -> dict[str, list[str]]:
    """Fix orphaned and lost jobs; returns ``{requeued, failed, cancelled, enqueued}`` job ids."""
    from persona.library import cleanup_leftovers

    queue = queue or JobQueue(settings)
    store = queue.store
    done: dict[str, list[str]] = {"requeued": [], "failed": [], "cancelled": [], "enqueued": []}
    running = store.list(status=["running"], limit=10_000)
    alive = queue.registry.alive_jobs([j["id"] for j in running]) if queue.registry is not None else None
    for job in running:
        if not is_orphan(job, stale_s=float(settings.job_stale_s), alive=alive):
            continue
        token = job["attempt_token"]
        if job["cancel_requested"]:
            result = kinds.stopped_result(settings.replace(owner=job.get("owner") or ""), job)
            if store.finish_orphan(job["id"], token, "cancelled", result=result, message="stopped"):
                shutil.rmtree(settings.jobs_dir / job["id"], ignore_errors=True)
                done["cancelled"].append(job["id"])
            continue
        started_work = job["stage"] != "waiting"  # only waited for the device: not a try
        if _oom_killed(settings, job):
            error = {
                "code": "out_of_memory",
                "message": "the worker ran out of memory and the system stopped it; this job needs "
                "more memory than the machine has free",
                "params": {},
            }
            if store.fail_orphan(job["id"], token, error):
                shutil.rmtree(settings.jobs_dir / job["id"], ignore_errors=True)
                done["failed"].append(job["id"])
            continue
        kind = kinds.KINDS.get(job["kind"])
        limit = kind.max_attempts if kind else 1
        if started_work and job["attempts"] >= limit:
            reason = f"interrupted by a restart {job['attempts']} times; giving up"
            if store.fail_orphan(job["id"], token, {"code": "interrupted", "message": reason}):
                shutil.rmtree(settings.jobs_dir / job["id"], ignore_errors=True)
                done["failed"].append(job["id"])
            continue
        params = dict(job["params"])
        if kind and kind.resumes:
            params["resume"] = True
            message = "resuming from the last checkpoint after a restart"
        else:
            message = "starting again after a restart"
        if queue.registry is not None:
            params["_queue"] = queue.route(job["kind"])
        if store.requeue(job["id"], token, params=params, message=message, count_attempt=started_work):
            queue.enqueue_existing(job["id"], params.get("_queue"))
            done["requeued"].append(job["id"])
    queued = store.list(status=["queued"], limit=10_000)
    if queued:
        pending = queue.pending_ids()
        for job in queued:
            if queue.registry is not None and _reroute(queue, job):
                done["enqueued"].append(job["id"])
            elif job["id"] not in pending:
                queue.enqueue_existing(job["id"])
                done["enqueued"].append(job["id"])
    cleanup_leftovers(settings)
    _clean_staging(settings)
    if any(done.values()):
        log.warning("job recovery: %s", {k: v for k, v in done.items() if v})
    return done


def _oom_killed(settings: Settings, job: dict) -> bool:
    """An orphan whose worker died on this host while the kernel OOM-killed (``persona.jobs.oom``):
    reported as ``out_of_memory`` at once (running it again would only kill a worker again)."""
    if job["worker_host"] != socket.gethostname() or pid_alive(job["worker_pid"]):
        return False
    return oom.killed_by_oom(settings.jobs_dir / job["id"])


def _reroute(queue: JobQueue, job: dict) -> bool:
    """A queued job whose device class has no live worker, while another class has: move it."""
    better = queue.route(job["kind"])
    if job["params"].get("_queue") == better or not queue.registry.classes():
        return False
    if not queue.store.reroute(job["id"], better):
        return False
    queue.enqueue_existing(job["id"], better)
    return True


def _clean_staging(settings: Settings, older_than_s: float = 3600.0) -> None:
    """Uploads a web process was still checking when it died (``.upload-*``, ``.export-*``)."""
    remove_stale_leftovers(settings.jobs_dir, (".upload-", ".export-"), older_than_s)
