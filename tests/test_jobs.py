"""Jobs: persisted state, the runner, device slots, and real worker processes (huey consumer):
progress, cancel (a stopped training keeps its model), restart survival, recovery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from persona.errors import PersonaError
from persona.jobs import JobQueue, JobStore
from persona.jobs.devicelock import device_slots
from persona.jobs.public import public_job
from persona.jobs.recovery import recover
from persona.jobs.runner import run_job
from persona.library import ModelLibrary
from persona.progress import CancelToken
from persona.testing.home import start_worker, stop_process, wait_for
from persona.testing.jobs import fixture_handlers

CLI = "import sys; from persona.cli import main; sys.exit(main(sys.argv[1:]))"


def stop_worker(proc, sig=signal.SIGTERM):
    stop_process(proc, sig)


@pytest.fixture
def worker(settings):
    procs: list[subprocess.Popen] = []

    def start(*extra: str) -> subprocess.Popen:
        proc = start_worker(settings, "--fixture-jobs", *extra)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        stop_worker(proc, signal.SIGKILL)


def status(store: JobStore, job_id: str) -> str:
    return store.get(job_id)["status"]


# ---- store and runner, in process ----------------------------------------------------------------
def test_store_lifecycle_and_change_stream(settings):
    store = JobStore(settings)
    seq0 = store.max_seq()
    job = store.create("fixture", {"steps": 1, "_secret": "x"}, model="m")
    assert job["status"] == "queued" and store.model_in_use("M")  # names compare case-insensitively
    assert "_secret" not in public_job(job)["params"]
    token = store.claim(job["id"])
    assert token and not store.claim(job["id"])  # only one worker gets it
    store.report(
        job["id"], token, stage="work", progress=0.5, message="half", eta_s=3.0, metrics={"loss": 1.5}
    )
    changes = store.changes_since(seq0)
    assert [c["status"] for c in changes] == ["running"] and changes[0]["progress"] == 0.5
    assert store.finish(job["id"], token, "succeeded", result={"x": 1})
    got = store.get(job["id"])
    assert got["status"] == "succeeded" and got["progress"] == 1.0 and got["result"] == {"x": 1}
    assert not store.model_in_use("m")
    with pytest.raises(PersonaError) as err:
        store.request_cancel(job["id"])
    assert err.value.code == "job_finished"
    with pytest.raises(PersonaError) as err:
        store.get("nope")
    assert err.value.status == 404


def test_runner_outcomes(settings):
    store = JobStore(settings)
    slept: list[float] = []
    handlers = fixture_handlers(sleep=slept.append)  # an injected clock: no real pauses
    cases = [
        ({"steps": 3, "step_s": 5}, "succeeded", None),
        ({"steps": 1, "step_s": 5, "fail": "bad_thing"}, "failed", "bad_thing"),
        ({"steps": 1, "step_s": 5, "crash": True}, "failed", "internal_error"),
    ]
    for params, expected, code in cases:
        job = store.create("fixture", params)
        assert run_job(settings, job["id"], handlers) == expected
        got = store.get(job["id"])
        assert got["status"] == expected
        assert (got["error"] or {}).get("code") == code
        assert not (settings.jobs_dir / job["id"]).exists()  # scratch removed
    done = store.get(store.list(status=["succeeded"])[0]["id"])
    assert done["result"]["answer"] == 42 and done["metrics"]["step"] == 3
    assert slept == [5.0] * 5


def test_fixture_training_stopped_in_process(settings, tmp_path):
    """The train stand-in on an injected clock: a stop in the first epoch keeps nothing; a stop
    after one finished epoch keeps the model."""
    from persona.errors import Cancelled
    from persona.jobs.handlers import JobContext

    for name, stop_after, kept in (("첫 시계", 2, False), ("시계", 12, True)):
        token, slept, events = CancelToken(), [], []

        def sleep(seconds: float, token=token, slept=slept, stop_after=stop_after) -> None:
            slept.append(seconds)
            if len(slept) == stop_after:
                token.cancel()

        params = {"name": name, "epochs": 50, "_step_s": 60, "_files": []}
        ctx = JobContext(
            settings,
            "j1",
            "train",
            params,
            1,
            tmp_path,
            lambda *a, events=events, **k: events.append(a),
            token,
        )
        with pytest.raises(Cancelled):
            fixture_handlers(sleep=sleep)["train"](ctx)
        assert slept == [6.0] * stop_after and len(events) == stop_after // 10
        assert ModelLibrary(settings).exists(name) is kept


def test_the_worker_registry_is_chosen_in_the_composition_root():
    from persona.cli.serve import resolve_handlers

    assert set(resolve_handlers(None)) == {"train", "cover", "assets"}  # no test kind in production
    assert set(resolve_handlers("fixture")) == {"train", "cover", "assets", "fixture"}
    assert set(resolve_handlers("tiny")) == {"train", "cover", "assets", "fixture"}
    with pytest.raises(PersonaError):
        resolve_handlers("nope")


def test_cancel_before_start_skips_the_job(settings):
    store = JobStore(settings)
    job = store.create("fixture", {"steps": 1})
    assert store.request_cancel(job["id"])["status"] == "cancelled"
    assert run_job(settings, job["id"], fixture_handlers()) is None
    assert status(store, job["id"]) == "cancelled"


def test_device_slots_training_alone_covers_share(tmp_path):
    locks = tmp_path / "locks"
    order: list[str] = []
    with device_slots(locks, "cpu", slots=2, exclusive=False):
        with device_slots(locks, "cpu", slots=2, exclusive=False):
            order.append("two covers at once")
        got_exclusive = threading.Event()

        def train():
            with device_slots(locks, "cpu", slots=2, exclusive=True, poll_s=0.01):
                got_exclusive.set()

        t = threading.Thread(target=train)
        t.start()
        assert not got_exclusive.wait(0.3)  # a cover still holds a slot
    t.join(10)
    assert got_exclusive.is_set() and order == ["two covers at once"]
    token = CancelToken()
    with device_slots(locks, "cpu", slots=1, exclusive=True):
        token.cancel()
        with (
            pytest.raises(PersonaError) as err,
            device_slots(locks, "cpu", slots=1, exclusive=False, cancel=token),
        ):
            pass
        assert err.value.code == "cancelled"


def test_recovery_requeues_orphans_and_gives_up_after_retries(settings):
    queue = JobQueue(settings)
    store = queue.store
    dead_pid = 2**22 + 12345  # above pid_max on this machine's default, never alive
    orphan = store.create("train", {"name": "x"}, model="x")
    store.claim(orphan["id"])
    store._update(orphan["id"], bump=False, worker_pid=dead_pid)
    tired = store.create("cover", {"model": "x"})
    store.claim(tired["id"])
    store._update(tired["id"], bump=False, worker_pid=dead_pid, attempts=2)
    live = store.create("fixture", {})
    store.claim(live["id"])  # this very process: alive
    stale, fresh = settings.jobs_dir / ".upload-stale", settings.jobs_dir / ".upload-fresh"
    stale.mkdir()
    fresh.mkdir()
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    done = recover(settings, queue)
    assert done["requeued"] == [orphan["id"]] and done["failed"] == [tired["id"]]
    assert not stale.exists() and fresh.exists()  # a dead upload is cleared, a live one left alone
    again = store.get(orphan["id"])
    assert again["status"] == "queued" and again["params"]["resume"] is True
    assert store.get(tired["id"])["error"]["code"] == "interrupted"
    assert status(store, live["id"]) == "running"
    assert orphan["id"] in queue.pending_ids()


# ---- real worker processes -----------------------------------------------------------------------
def test_worker_process_runs_jobs_and_reports_progress(settings, worker):
    queue = JobQueue(settings)
    job = queue.submit("fixture", {"steps": 8, "step_s": 0.1})
    worker()
    seen = set()

    def finished():
        j = queue.store.get(job["id"])
        seen.add(round(j["progress"], 3))
        return j["status"] in ("succeeded", "failed") and j

    final = wait_for(finished)
    assert final["status"] == "succeeded", final["error"]
    assert len(seen - {0.0, 1.0}) >= 2  # intermediate progress was visible while it ran
    assert final["started_at"] and final["finished_at"]


def test_cancel_running_training_keeps_the_model(settings, worker):
    queue = JobQueue(settings)
    job = queue.submit("train", {"name": "멈춤", "epochs": 50, "_step_s": 0.1, "_files": []}, model="멈춤")
    worker()
    wait_for(lambda: queue.store.get(job["id"])["progress"] > 0)
    queue.cancel(job["id"])
    final = wait_for(lambda: (j := queue.store.get(job["id"]))["status"] not in ("queued", "running") and j)
    assert final["status"] == "cancelled"
    assert final["result"] == {"model_name": "멈춤", "stopped": True, "saved": True}
    assert ModelLibrary(settings).exists("멈춤")


def test_restart_survival(settings, worker):
    """Kill the worker mid-training; a job queued while it is down; restart: both finish."""
    queue = JobQueue(settings)
    train = queue.submit(
        "train", {"name": "resume-me", "epochs": 20, "_step_s": 0.15, "_files": []}, model="resume-me"
    )
    first = worker()
    wait_for(lambda: queue.store.get(train["id"])["progress"] >= 0.1)
    stop_worker(first, signal.SIGKILL)  # no chance to clean up: a crash
    assert status(queue.store, train["id"]) == "running"  # as the crash left it
    waiting = queue.submit("fixture", {"steps": 2, "step_s": 0.01})
    assert status(queue.store, waiting["id"]) == "queued"
    worker()
    final = wait_for(lambda: (j := queue.store.get(train["id"]))["status"] in ("succeeded", "failed") and j)
    assert final["status"] == "succeeded", final["error"]
    assert final["attempts"] == 2 and final["params"]["resume"] is True
    assert wait_for(lambda: status(queue.store, waiting["id"]) == "succeeded")
    assert ModelLibrary(settings).exists("resume-me")
    leftovers = [p.name for p in settings.models_dir.iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []


def test_failed_job_reports_its_error(settings, worker):
    queue = JobQueue(settings)
    job = queue.submit("cover", {"model": "missing", "_song": "x.wav"}, model="missing")
    worker()
    final = wait_for(lambda: (j := queue.store.get(job["id"]))["status"] in ("succeeded", "failed") and j)
    assert final["status"] == "failed" and final["error"]["code"] == "model_not_found"


def test_worker_cli_is_wired(settings):
    out = subprocess.run([sys.executable, "-c", CLI, "worker", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--workers" in out.stdout
    out = subprocess.run([sys.executable, "-c", CLI, "serve", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--port" in out.stdout and "--host" in out.stdout


def test_fixture_dirs_are_inside_home(settings):
    assert Path(JobStore(settings).path).is_relative_to(settings.home)
