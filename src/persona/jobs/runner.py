"""Run one job inside a worker process: claim it, hold the device, report, finish.

Progress is written to the job store at most every 0.2 s (a stage change or the end is written at
once; a held-back update is flushed by the heartbeat thread within 0.5 s), so Socket.IO clients
see it within a second. ETA: the engine's own ``eta_s`` metric when it gives one, else linear in
the overall fraction since the job started running; either is held back for the first seconds
and then smoothed (a countdown blended with each new estimate) so it does not jump about.
Messages: a ``persona.messages.Msg`` travels as ``metrics.message_code`` + ``message_params`` (what
the page renders); plain text stays in ``message`` for API clients and logs. Cancel: the token reads the store's flag
(at most every 0.25 s). Failures: PersonaError -> ``failed`` with its code; anything else ->
``failed`` with ``internal_error`` and the traceback in the worker log.

Fencing: every write carries the attempt's token from ``JobStore.claim``. When recovery has
given the job to another attempt (this process was paused or cut off past ``job_stale_s``), the
store refuses the writes, the cancel token turns ``superseded``, the handler stops at its next
check (``check_owner`` before anything reaches the library), and the attempt leaves no output:
its scratch folder (``jobs/<id>/attempt-<token>``) goes, the job's inputs stay for the owner.

Scale-out: the heartbeat also renews the job's liveness key in Redis (``cluster.JOB_TTL_S``), and a
database that stops answering mid-job does not fail the job: progress is held back and written
when it answers again, and the final state is retried with backoff (``_retry``) until it lands.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from persona.disk import as_disk_full
from persona.errors import Cancelled, PersonaError, Superseded
from persona.jobs import fairness, kinds, oom
from persona.jobs.devicelock import device_turn
from persona.jobs.handlers import Handler, JobContext
from persona.jobs.store import JobStore
from persona.messages import code_of
from persona.progress import CancelToken
from persona.settings import Settings

log = logging.getLogger(__name__)
WRITE_EVERY_S = 0.2
FLUSH_EVERY_S = 0.5
HEARTBEAT_EVERY_S = 5.0
ETA_AFTER_S = 3.0  # no estimate before this much work (the first steps include warm-up)
ETA_BLEND = 0.25  # weight of a new estimate against the running countdown


def _storable(v: Any) -> bool:
    """Scalars, and small dicts of them (a training save's metrics with their ``unavailable`` reasons)."""
    if isinstance(v, (int, float, str, bool)) or v is None:
        return True
    if isinstance(v, dict) and len(v) <= 32:
        return all(
            isinstance(k, str) and (_storable(x) if isinstance(x, dict) else _scalar(x)) for k, x in v.items()
        )
    return False


def _scalar(v: Any) -> bool:
    return isinstance(v, (int, float, str, bool)) or v is None


class _Reporter:
    """Progress of one attempt; ``floor``: a resumed training never reports less than it had."""

    def __init__(self, store: JobStore, job_id: str, token: str, floor: float = 0.0) -> None:
        self.store, self.job_id, self.token = store, job_id, token
        self.lock = threading.Lock()
        self.metrics: dict[str, Any] = {}
        self.stage = ""
        self.t0 = time.monotonic()
        self.last_write = 0.0
        self.pending: dict[str, Any] | None = None
        self._eta: tuple[float, float] | None = None  # (smoothed eta, when)
        self.floor = float(floor)
        self.on_stale = lambda: None

    def restart_clock(self) -> None:
        self.t0 = time.monotonic()
        self._eta = None

    def _smooth(self, eta: float | None, now: float) -> float | None:
        if eta is None or now - self.t0 < ETA_AFTER_S:
            return None
        if self._eta is not None:
            prev, when = self._eta
            countdown = max(0.0, prev - (now - when))
            eta = countdown + ETA_BLEND * (float(eta) - countdown)
        self._eta = (float(eta), now)
        return eta

    def __call__(self, stage: str, fraction: float, message: str = "", **metrics: Any) -> None:
        f = min(max(float(fraction), self.floor, 0.0), 1.0)
        # A handler that measures its own clock (a training: eta_s with eta_low_s/eta_high_s,
        # None while it cannot tell) is taken as it says; else the fraction gives a smoothed guess.
        measured = "eta_low_s" in metrics
        eta = metrics.pop("eta_s", None)
        elapsed = time.monotonic() - self.t0
        if eta is None and f >= 0.01 and not measured:
            eta = elapsed * (1 - f) / f
        code, params = code_of(message)
        with self.lock:
            eta = eta if measured else self._smooth(eta, time.monotonic())
            self.metrics.update({k: v for k, v in metrics.items() if _storable(v)})
            update = {
                "stage": stage,
                "progress": f,
                "message": message,
                "eta_s": None if eta is None else round(float(eta), 1),
                "metrics": {**self.metrics, "message_code": code, "message_params": params},
            }
            now = time.monotonic()
            if stage != self.stage or f >= 1.0 or now - self.last_write >= WRITE_EVERY_S:
                self.stage = stage
                self._write(update, now)
            else:
                self.pending = update

    def _write(self, update: dict[str, Any], now: float) -> None:
        self.pending = None
        self.last_write = now
        try:
            written = self.store.report(self.job_id, self.token, **update)
        except Exception:  # noqa: BLE001 - the database is away: keep it for the next flush
            self.pending = update
            log.debug("progress write failed; held back", exc_info=True)
            return
        if not written:
            self.on_stale()

    def flush(self) -> None:
        with self.lock:
            if self.pending is not None:
                self._write(self.pending, time.monotonic())


class _Heartbeat(threading.Thread):
    def __init__(self, store: JobStore, job_id: str, reporter: _Reporter, every_s: float, alive=None) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.store, self.job_id, self.reporter = store, job_id, reporter
        self.every_s = every_s
        self.alive = alive  # scale-out: renews the job's liveness key in Redis
        self.stop = threading.Event()

    def run(self) -> None:
        last_beat = last_alive = time.monotonic()
        while not self.stop.wait(min(FLUSH_EVERY_S, self.every_s)):
            if self.alive is not None and time.monotonic() - last_alive >= self.every_s:
                try:
                    self.alive()
                    last_alive = time.monotonic()
                except Exception:  # noqa: BLE001 - Redis away: retried at the next beat
                    log.debug("liveness beat failed", exc_info=True)
            try:
                self.reporter.flush()
                if time.monotonic() - last_beat >= self.every_s:
                    if not self.store.heartbeat(self.job_id, self.reporter.token):
                        self.reporter.on_stale()
                    last_beat = time.monotonic()
            except Exception:  # noqa: BLE001 - a busy database must not kill the job
                log.debug("heartbeat failed", exc_info=True)


class AttemptToken(CancelToken):
    """The cancel token of one attempt: set when the user asks to stop (read from the store at
    most every 0.25 s) and, for good, when the attempt is superseded (``check_owner`` reads the
    store afresh, so a result is never committed on a stale view)."""

    def __init__(self, store: JobStore, job_id: str, token: str) -> None:
        super().__init__()
        self.store, self.job_id, self.token = store, job_id, token
        self._reason: str | None = None
        self._read_at = -1.0

    def _refresh(self, fresh: bool = False) -> str | None:
        now = time.monotonic()
        if self._reason != "superseded" and (fresh or now - self._read_at >= 0.25):
            self._read_at = now
            try:
                reason = self.store.stop_reason(self.job_id, self.token)
            except Exception:  # noqa: BLE001 - a locked database: keep the last view
                if fresh:
                    raise
                reason = None
            self._reason = reason or self._reason
        return self._reason

    def mark_superseded(self) -> None:
        self._reason = "superseded"

    @property
    def superseded(self) -> bool:
        return self._refresh() == "superseded"

    @property
    def cancelled(self) -> bool:
        return self._event.is_set() or self._refresh() is not None

    def check_owner(self) -> None:
        if self._refresh(fresh=True) == "superseded":
            raise Superseded()


def _device(settings: Settings) -> str:
    try:
        return settings.resolved_device()
    except Exception:  # noqa: BLE001
        return "cpu"


def _retry(what: str, fn, *, first_s: float = 0.5, max_s: float = 10.0, give_up_s: float = 3600.0):
    """``fn()`` until it works: doubling waits up to ``max_s`` (a database restarting)."""
    wait, deadline = first_s, time.monotonic() + give_up_s
    while True:
        try:
            return fn()
        except Exception:
            if time.monotonic() > deadline:
                raise
            log.warning("%s failed; retrying in %.1f s", what, wait, exc_info=log.isEnabledFor(logging.DEBUG))
            time.sleep(wait)
            wait = min(wait * 2, max_s)


def _locks_dir(settings: Settings):
    """Device slots are per machine: on a shared PERSONA_HOME each host has its own lock files."""
    if settings.redis_url:
        return settings.jobs_dir / "locks" / socket.gethostname()
    return settings.jobs_dir / "locks"


def heartbeat_every_s(settings: Settings) -> float:
    """Often enough that a live attempt is never taken for dead (``job_stale_s``)."""
    return max(0.1, min(HEARTBEAT_EVERY_S, float(settings.job_stale_s) / 4))


def run_job(
    settings: Settings, job_id: str, handlers: dict[str, Handler], *, queue_class: str | None = None
) -> str | None:
    """Run job ``job_id`` if it is still queued; return its final status (None when skipped,
    ``"superseded"`` when another attempt took the job over while this one ran).
    ``queue_class``: the device-class queue this came from; a job routed elsewhere since is left.

    A job that uses the device is a turn at it: once a slot is free, the queued job that is
    fairest to run (``persona.jobs.fairness``: across people, then first come) takes it, which
    may be another than this message's (that one is then run by a later turn)."""
    store = JobStore(settings)
    try:
        job = store.get(job_id)
    except PersonaError:
        return None
    if queue_class is not None and job["params"].get("_queue") not in (None, queue_class):
        log.info("job %s was routed to the %s queue; skipped here", job_id, job["params"].get("_queue"))
        return None
    if fairness.device_use_of(job) is None:
        token = store.claim(job_id)
        if not token:
            return _skipped(settings, store, job_id)
        return _run_claimed(settings, store, job_id, token, handlers)

    def choose():
        line = fairness.next_in_line(store, queue_class)
        return (line[0], fairness.device_use_of(line[0]) == kinds.EXCLUSIVE) if line else None

    for _ in range(100):  # a chosen job cancelled before its claim: take another turn
        with device_turn(
            _locks_dir(settings), _device(settings), slots=max(1, settings.cover_concurrency), choose=choose
        ) as chosen:
            if chosen is None:
                return _skipped(settings, store, job_id)
            token = store.claim(chosen["id"])
            if token:
                return _run_claimed(settings, store, chosen["id"], token, handlers)
    return None


def _skipped(settings: Settings, store: JobStore, job_id: str) -> None:
    log.info("job %s is not queued any more; skipped", job_id)
    try:
        if store.get(job_id)["status"] in ("cancelled", "failed"):
            shutil.rmtree(settings.jobs_dir / job_id, ignore_errors=True)
    except PersonaError:
        pass
    return None


def _run_claimed(
    settings: Settings, store: JobStore, job_id: str, token: str, handlers: dict[str, Handler]
) -> str | None:
    """Run a job this process claimed (holding its device turn, if it uses one) to its end."""
    job = store.get(job_id)
    settings = settings.replace(owner=job.get("owner") or "")  # its library, its folders
    kind = job["kind"]
    resumes = kind in kinds.KINDS and kinds.KINDS[kind].resumes
    floor = job["progress"] if resumes and job["attempts"] > 1 else 0.0
    reporter = _Reporter(store, job_id, token, floor=floor)
    cancel = AttemptToken(store, job_id, token)
    reporter.on_stale = cancel.mark_superseded
    alive = None
    if settings.redis_url:
        from persona.jobs.cluster import WorkerRegistry

        registry = WorkerRegistry(settings.redis_url)
        me = WorkerRegistry.worker_id()

        def alive() -> None:
            registry.job_alive(job_id, me)

        try:
            alive()
        except Exception:  # noqa: BLE001 - Redis away: the heartbeat thread retries
            log.warning("could not mark job %s alive in Redis", job_id)
    beat = _Heartbeat(store, job_id, reporter, heartbeat_every_s(settings), alive)
    beat.start()
    workdir = settings.jobs_dir / job_id
    scratch = (
        workdir / f"attempt-{token[:12]}"
    )  # this attempt's own files: never shared (see api_cover_audio)
    scratch.mkdir(parents=True, exist_ok=True)
    oom.note_start(workdir)  # recovery tells an out-of-memory kill from a restart by it
    status = None  # stays None when the process is being killed: inputs are kept for the restart
    result: dict[str, Any] | None = None
    try:
        handler = handlers.get(kind)
        if handler is None:
            raise PersonaError("job_kind_unknown", f"this worker cannot run {kind!r} jobs")
        ctx = JobContext(
            settings, job_id, kind, job["params"], job["attempts"], workdir, reporter, cancel, scratch
        )
        reporter.restart_clock()
        result = handler(ctx)
        reporter.flush()
        status = _finish_result(settings, store, job, token, result, free=lambda: _free(scratch))
    except Superseded:
        status = "superseded"
    except Cancelled as exc:
        status = _finish(
            store,
            job_id,
            token,
            "cancelled",
            free=lambda: _free(scratch, workdir),
            result=kinds.stopped_result(settings, job),
            message=exc.message,
        )
    except Exception as exc:  # noqa: BLE001 - a PersonaError, a full disk, or a bug (logged)
        error = _error_of(exc, job_id, kind)
        status = _finish(
            store,
            job_id,
            token,
            "failed",
            free=lambda: _free(scratch, workdir),
            error=error.to_dict(),
            message=error.message,
        )
    finally:
        beat.stop.set()
        beat.join(timeout=2)
        if alive is not None:
            with contextlib.suppress(Exception):
                registry.job_gone(job_id)
        shutil.rmtree(scratch, ignore_errors=True)
        if status == "superseded":
            log.warning("job %s: attempt %s was superseded; it stopped and wrote nothing", job_id, token[:12])
            if not _still_recorded(store, job_id):  # its person was erased mid-job: leave nothing
                shutil.rmtree(workdir, ignore_errors=True)
        elif status is not None:  # uploads and scratch; outputs live in the library
            shutil.rmtree(workdir, ignore_errors=True)
    return status


def _still_recorded(store: JobStore, job_id: str) -> bool:
    try:
        store.get(job_id)
    except PersonaError:
        return False
    except Exception:  # noqa: BLE001 - database away: keep the inputs, recovery decides later
        return True
    return True


def _free(*folders: Path) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _error_of(exc: BaseException, job_id: str, kind: str) -> PersonaError:
    """What a failed attempt reports: its PersonaError, ``disk_full`` for a full disk anywhere in
    the chain, else (a bug, logged with its traceback) ``internal_error``."""
    if isinstance(exc, PersonaError):
        return exc
    full = as_disk_full(exc)
    if full is not None:
        log.warning("job %s (%s): the disk is full: %s", job_id, kind, exc)
        return full
    log.exception("job %s (%s) crashed", job_id, kind)  # the traceback is for the log, not the person
    return PersonaError(
        "internal_error", "the job hit an unexpected error; the server log has the details", 500
    )


def _store_finish(
    store: JobStore,
    job_id: str,
    token: str,
    status: str,
    *,
    free: Callable[[], None] | None = None,
    **kw: Any,
) -> bool:
    """``store.finish``, retried while the database is away (the job's result must land). When
    the database cannot write because the disk is full (it often shares the disk with the jobs),
    ``free()`` first removes the attempt's own files, so the end can be recorded and the job
    does not stay ``running`` until someone frees space (issue 24)."""

    def attempt() -> bool:
        try:
            return store.finish(job_id, token, status, **kw)
        except Exception as exc:
            if free is not None and as_disk_full(exc) is not None:
                log.warning("job %s: the disk is full; removing its files to record its end", job_id)
                free()
            raise

    return _retry(f"recording job {job_id} as {status}", attempt)


def _finish(
    store: JobStore,
    job_id: str,
    token: str,
    status: str,
    *,
    free: Callable[[], None] | None = None,
    **kw: Any,
) -> str:
    return status if _store_finish(store, job_id, token, status, free=free, **kw) else "superseded"


def _finish_result(
    settings: Settings,
    store: JobStore,
    job: dict[str, Any],
    token: str,
    result: dict[str, Any],
    free: Callable[[], None] | None = None,
) -> str:
    """Commit a handler's result. Refused (superseded, or a cancel came in after the handler's
    last check): the cover it added is removed again; a stopped training keeps its model."""
    job_id = job["id"]
    status = "cancelled" if result.pop("stopped", False) else "succeeded"
    if status == "cancelled":
        result["saved"] = True  # stopped after a save: the last saved epoch was exported
    message = "done" if status == "succeeded" else "stopped"
    if _store_finish(store, job_id, token, status, free=free, result=result, message=message):
        return status
    _roll_back(settings, job, result)
    if store.stop_reason(job_id, token) == "cancel":
        return _finish(
            store, job_id, token, "cancelled", result=kinds.stopped_result(settings, job), message="stopped"
        )
    return "superseded"


def _roll_back(settings: Settings, job: dict[str, Any], result: dict[str, Any]) -> None:
    """Undo the visible output of an attempt whose result was refused (its kind's ``undo``). A
    training's model is kept: its name is the job's, and the current attempt (or the user's stop) owns it."""
    kinds.undo_result(settings, job, result)
