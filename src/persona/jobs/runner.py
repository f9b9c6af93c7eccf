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
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from typing import Any

from persona.errors import Cancelled, PersonaError
from persona.jobs.devicelock import device_slots
from persona.jobs.handlers import DEVICE_USE, Handler, JobContext
from persona.jobs.store import JobStore
from persona.messages import code_of, msg
from persona.progress import CancelToken
from persona.settings import Settings

log = logging.getLogger(__name__)
WRITE_EVERY_S = 0.2
FLUSH_EVERY_S = 0.5
HEARTBEAT_EVERY_S = 5.0
ETA_AFTER_S = 3.0  # no estimate before this much work (the first steps include warm-up)
ETA_BLEND = 0.25  # weight of a new estimate against the running countdown


class _Reporter:
    def __init__(self, store: JobStore, job_id: str) -> None:
        self.store, self.job_id = store, job_id
        self.lock = threading.Lock()
        self.metrics: dict[str, Any] = {}
        self.stage = ""
        self.t0 = time.monotonic()
        self.last_write = 0.0
        self.pending: dict[str, Any] | None = None
        self._eta: tuple[float, float] | None = None  # (smoothed eta, when)

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
        f = min(max(float(fraction), 0.0), 1.0)
        eta = metrics.pop("eta_s", None)
        elapsed = time.monotonic() - self.t0
        if eta is None and f >= 0.01:
            eta = elapsed * (1 - f) / f
        code, params = code_of(message)
        with self.lock:
            eta = self._smooth(eta, time.monotonic())
            self.metrics.update(
                {k: v for k, v in metrics.items() if isinstance(v, (int, float, str, bool)) or v is None}
            )
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
        self.store.report(self.job_id, **update)

    def flush(self) -> None:
        with self.lock:
            if self.pending is not None:
                self._write(self.pending, time.monotonic())


class _Heartbeat(threading.Thread):
    def __init__(self, store: JobStore, job_id: str, reporter: _Reporter) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.store, self.job_id, self.reporter = store, job_id, reporter
        self.stop = threading.Event()

    def run(self) -> None:
        last_beat = 0.0
        while not self.stop.wait(FLUSH_EVERY_S):
            try:
                self.reporter.flush()
                if time.monotonic() - last_beat >= HEARTBEAT_EVERY_S:
                    self.store.heartbeat(self.job_id)
                    last_beat = time.monotonic()
            except Exception:  # noqa: BLE001 - a busy database must not kill the job
                log.debug("heartbeat failed", exc_info=True)


def _cancel_token(store: JobStore, job_id: str) -> CancelToken:
    state = {"t": 0.0, "v": False}

    def is_set() -> bool:
        now = time.monotonic()
        if not state["v"] and now - state["t"] >= 0.25:
            state["t"] = now
            state["v"] = store.cancel_requested(job_id)
        return state["v"]

    return CancelToken(is_set)


def _device(settings: Settings) -> str:
    try:
        return settings.resolved_device()
    except Exception:  # noqa: BLE001
        return "cpu"


def run_job(settings: Settings, job_id: str, handlers: dict[str, Handler]) -> str | None:
    """Run job ``job_id`` if it is still queued; return its final status (None when skipped)."""
    store = JobStore(settings)
    if not store.claim(job_id):
        log.info("job %s is not queued any more; skipped", job_id)
        try:
            if store.get(job_id)["status"] in ("cancelled", "failed"):
                shutil.rmtree(settings.jobs_dir / job_id, ignore_errors=True)
        except PersonaError:
            pass
        return None
    job = store.get(job_id)
    kind = job["kind"]
    reporter = _Reporter(store, job_id)
    cancel = _cancel_token(store, job_id)
    beat = _Heartbeat(store, job_id, reporter)
    beat.start()
    workdir = settings.jobs_dir / job_id
    workdir.mkdir(parents=True, exist_ok=True)
    status = None  # stays None when the process is being killed: inputs are kept for the restart
    try:
        handler = handlers.get(kind)
        if handler is None:
            raise PersonaError("job_kind_unknown", f"this worker cannot run {kind!r} jobs")
        use = job["params"].get("_device_use", DEVICE_USE.get(kind))
        ctx = JobContext(settings, job_id, kind, job["params"], job["attempts"], workdir, reporter, cancel)
        if use is None:
            result = handler(ctx)
        else:
            device = _device(settings)
            device_word = "GPU" if device.startswith("cuda") else "CPU"

            def waiting() -> None:
                store.report(
                    job_id,
                    stage="waiting",
                    progress=0.0,
                    message=msg("waiting_device", device=device_word),
                    eta_s=None,
                    metrics={"message_code": "waiting_device", "message_params": {"device": device_word}},
                )

            with device_slots(
                settings.jobs_dir / "locks",
                device,
                slots=max(1, settings.cover_concurrency),
                exclusive=use == "exclusive",
                cancel=cancel,
                on_wait=waiting,
            ):
                reporter.restart_clock()
                result = handler(ctx)
        reporter.flush()
        status = "cancelled" if result.pop("stopped", False) else "succeeded"
        if status == "cancelled":
            result["saved"] = True  # stopped after a save: the last saved epoch was exported
        store.finish(job_id, status, result=result, message="done" if status == "succeeded" else "stopped")
    except Cancelled as exc:
        status = "cancelled"
        store.finish(job_id, "cancelled", result=_kept_model(settings, job), message=exc.message)
    except PersonaError as exc:
        status = "failed"
        store.finish(job_id, "failed", error=exc.to_dict(), message=exc.message)
    except Exception as exc:  # noqa: BLE001 - a bug: log it, tell the client something useful
        log.exception("job %s (%s) crashed", job_id, kind)
        status = "failed"
        store.finish(
            job_id, "failed", error={"code": "internal_error", "message": f"{type(exc).__name__}: {exc}"}
        )
    finally:
        beat.stop.set()
        beat.join(timeout=2)
        if status is not None:  # uploads and scratch; outputs live in the library
            shutil.rmtree(workdir, ignore_errors=True)
    return status


def _kept_model(settings: Settings, job: dict[str, Any]) -> dict[str, Any] | None:
    """A stopped training keeps its last saved model: point the result at it."""
    if job["kind"] != "train":
        return None
    from persona.library import ModelLibrary

    name = job["params"].get("name")
    if name and ModelLibrary(settings).exists(name):
        return {"model_name": name, "stopped": True, "saved": True}
    return {"saved": False}  # stopped before the first save: nothing was kept
