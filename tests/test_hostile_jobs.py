"""A job has one owner: fencing tokens per attempt, under a paused worker (SIGSTOP past the
recovery timeout, then SIGCONT), takeovers in process, cancel races, restarts that keep counts,
timestamps and progress honest."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from persona.errors import PersonaError
from persona.jobs import JobQueue, JobStore
from persona.jobs.public import final_event
from persona.jobs.recovery import recover
from persona.jobs.runner import _Reporter, run_job
from persona.jobs.store import new_job_id
from persona.library import CoverLibrary, ModelLibrary
from persona.testing.home import start_worker, stop_process, wait_for, write_fixture_model
from persona.testing.jobs import fixture_handlers, run_fixture_cover, run_fixture_train

DEAD_PID = 2**22 + 12345  # above pid_max: never alive


def _model(settings, tmp_path, name="목소리") -> str:
    ModelLibrary(settings).add(name, write_fixture_model(tmp_path / "m.pth"), source="upload")
    return name


def _cover_job(queue: JobQueue, model: str, **params) -> str:
    job_id = new_job_id()
    inputs = queue.job_dir(job_id) / "inputs"
    inputs.mkdir(parents=True)
    (inputs / "song.wav").write_bytes(b"RIFF fake song")
    queue.submit("cover", {"model": model, "_song": "song.wav", **params}, model=model, job_id=job_id)
    return job_id


def _covers_of(settings, job_id: str) -> list[str]:
    return [c.id for c in CoverLibrary(settings).list() if c.metadata.get("job_id") == job_id]


def _take_over(store: JobStore, job_id: str) -> None:
    """What recovery does to an attempt it believes dead: requeue, superseding its token."""
    job = store.get(job_id)
    assert store.requeue(job_id, job["attempt_token"], message="starting again after a restart")


# ---- the store's fencing --------------------------------------------------------------------------
def test_a_superseded_token_can_neither_report_nor_finish(settings):
    store = JobStore(settings)
    job = store.create("cover", {"model": "x"}, model="x")
    old = store.claim(job["id"])
    _take_over(store, job["id"])
    new = store.claim(job["id"])
    assert old and new and old != new
    assert store.stop_reason(job["id"], old) == "superseded" and store.stop_reason(job["id"], new) is None
    report = {"stage": "convert", "progress": 0.9, "message": "old", "eta_s": None, "metrics": {}}
    assert not store.report(job["id"], old, **report)
    assert not store.heartbeat(job["id"], old)
    assert not store.finish(job["id"], old, "succeeded", result={"cover_id": "old"})
    assert store.get(job["id"])["status"] == "running" and store.get(job["id"])["message"] != "old"
    assert store.finish(job["id"], new, "succeeded", result={"cover_id": "new"})
    seq = store.max_seq()
    # A terminal state never changes: not by the old attempt, not by the new one, not by recovery.
    assert not store.finish(job["id"], old, "failed", error={"code": "x", "message": "late"})
    assert not store.finish(job["id"], new, "failed", error={"code": "x", "message": "late"})
    assert not store.requeue(job["id"], new, message="again")
    assert not store.fail_orphan(job["id"], None, {"code": "interrupted", "message": "x"})
    assert store.changes_since(seq) == []  # subscribers see nothing after job_done
    final = store.get(job["id"])
    assert final["status"] == "succeeded" and final["result"] == {"cover_id": "new"}
    assert final_event(final)[0] == "job_done"


def test_a_cancel_answered_202_never_ends_succeeded(settings, tmp_path):
    """The cancel lands after the handler's last check: its cover is removed, the job is cancelled."""
    store = JobStore(settings)
    model = _model(settings, tmp_path)
    queue = JobQueue(settings)
    job_id = _cover_job(queue, model, _step_s=0)

    def cover_then_cancel(ctx):
        result = run_fixture_cover(ctx)
        assert store.request_cancel(ctx.job_id)["status"] == "running"  # the 202 the client got
        return result

    assert run_job(settings, job_id, {"cover": cover_then_cancel}) == "cancelled"
    final = store.get(job_id)
    assert final["status"] == "cancelled" and _covers_of(settings, job_id) == []
    # and a job that ended while the cancel came in answers 409, never 202
    with pytest.raises(PersonaError) as err:
        store.request_cancel(job_id)
    assert err.value.code == "job_finished" and err.value.status == 409


@pytest.mark.parametrize("kind", ["cover", "train"])
def test_an_attempt_taken_over_mid_run_stops_and_leaves_no_output(settings, tmp_path, kind):
    store = JobStore(settings)
    queue = JobQueue(settings)
    model = _model(settings, tmp_path)
    if kind == "cover":
        job_id = _cover_job(queue, model, _step_s=0)
        inner = run_fixture_cover
    else:
        job_id = new_job_id()
        (queue.job_dir(job_id) / "inputs").mkdir(parents=True)
        params = {"name": "새 목소리", "epochs": 3, "_step_s": 0, "_files": []}
        queue.submit("train", params, model="새 목소리", job_id=job_id)
        inner = run_fixture_train
    seen: dict[str, str] = {}

    def paused_then_overtaken(ctx):
        seen["token"] = ctx.cancel.token
        _take_over(store, ctx.job_id)  # as if this process had been stopped past the timeout
        return inner(ctx)

    assert run_job(settings, job_id, {kind: paused_then_overtaken}) == "superseded"
    job = store.get(job_id)
    assert job["status"] == "queued" and job["attempt_token"] is None  # the new owner's to take
    assert _covers_of(settings, job_id) == [] and not ModelLibrary(settings).exists("새 목소리")
    assert (queue.job_dir(job_id) / "inputs").is_dir()  # the owner still needs the inputs
    assert not (queue.job_dir(job_id) / f"attempt-{seen['token'][:12]}").exists()
    assert run_job(settings, job_id, fixture_handlers()) == "succeeded"  # the next attempt runs
    assert store.get(job_id)["attempts"] == 2


@pytest.mark.parametrize("slots", [1, 2])
def test_paused_worker_past_the_timeout_is_superseded(settings, tmp_path, monkeypatch, slots):
    """SIGSTOP a worker mid-cover until recovery gives the job to another worker, then SIGCONT:
    the paused attempt stops and writes nothing; the job ends succeeded once, with one cover.
    One device slot: the job waits, queued, for the slot the paused attempt holds (until it wakes
    and stops: only then is the job taken again); two slots: the new attempt finishes while the old
    one is still paused."""
    monkeypatch.setenv("PERSONA_JOB_STALE_S", "1.5")
    monkeypatch.setenv("PERSONA_COVER_CONCURRENCY", str(slots))
    settings = settings.replace(job_stale_s=1.5, cover_concurrency=slots)
    queue = JobQueue(settings)
    model = _model(settings, tmp_path)
    job_id = _cover_job(queue, model, _step_s=0.3)
    logs = [open(tmp_path / f"worker{i}.log", "w+") for i in (1, 2)]  # noqa: SIM115
    first = start_worker(settings, "--fixture-jobs", workers=1, log=logs[0])
    second = None
    try:
        wait_for(lambda: (j := queue.store.get(job_id))["status"] == "running" and j["progress"] > 0)
        os.killpg(first.pid, signal.SIGSTOP)
        second = start_worker(settings, "--fixture-jobs", workers=1, log=logs[1])
        if slots == 1:
            wait_for(lambda: queue.store.get(job_id)["status"] == "queued")  # recovery gave it back
            os.killpg(first.pid, signal.SIGCONT)
        wait_for(lambda: queue.store.get(job_id)["attempts"] == 2)  # taken over by the second worker
        final = wait_for(lambda: (j := queue.store.get(job_id))["status"] not in ("queued", "running") and j)
        assert final["status"] == "succeeded", final["error"]
        seq = queue.store.max_seq()
        os.killpg(first.pid, signal.SIGCONT)
        wait_for(lambda: "was superseded" in (tmp_path / "worker1.log").read_text())
        assert queue.store.changes_since(seq) == []  # no job_failed after job_done
        again = queue.store.get(job_id)
        assert again["status"] == "succeeded" and again["result"] == final["result"]
        assert _covers_of(settings, job_id) == [final["result"]["cover_id"]]
    finally:
        for proc in (first, second):
            if proc is not None:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGCONT)
                stop_process(proc, signal.SIGKILL)
        for f in logs:
            f.close()


# ---- restarts keep counts, timestamps and progress ---------------------------------------------------
def _orphan(store: JobStore, job_id: str, **cols) -> None:
    store._update(job_id, bump=False, **cols)


def test_a_cover_that_only_waited_for_the_device_keeps_its_tries(settings):
    queue = JobQueue(settings)
    store = queue.store
    job = store.create("cover", {"model": "x"}, model="x")
    for _ in range(3):  # three restarts while it waited: it never gives up
        token = store.claim(job["id"])
        store.report(
            job["id"], token, stage="waiting", progress=0.0, message="waiting for cpu", eta_s=None, metrics={}
        )
        _orphan(store, job["id"], worker_pid=DEAD_PID)
        assert recover(settings, queue)["requeued"] == [job["id"]]
        assert store.get(job["id"])["attempts"] == 0
    first_start = store.get(job["id"])["started_at"]
    token = store.claim(job["id"])
    assert store.get(job["id"])["started_at"] == first_start  # started_at keeps the first start
    store.report(job["id"], token, stage="convert", progress=0.4, message="", eta_s=None, metrics={})
    _orphan(store, job["id"], worker_pid=DEAD_PID, attempts=2)
    assert recover(settings, queue)["failed"] == [job["id"]]  # a cover that worked twice gives up


def test_recovery_that_gives_up_removes_the_job_folder(settings):
    queue = JobQueue(settings)
    store = queue.store
    job = store.create("cover", {"model": "x", "_song": "s.wav"}, model="x")
    (queue.job_dir(job["id"]) / "inputs").mkdir(parents=True)
    (queue.job_dir(job["id"]) / "inputs" / "s.wav").write_bytes(b"song")
    store.claim(job["id"])
    _orphan(store, job["id"], worker_pid=DEAD_PID, attempts=2, stage="convert")
    assert recover(settings, queue)["failed"] == [job["id"]]
    assert not queue.job_dir(job["id"]).exists()


def test_a_resumed_training_never_reports_less_progress(settings):
    store = JobStore(settings)
    job = store.create("train", {"name": "x"}, model="x")
    token = store.claim(job["id"])
    reporter = _Reporter(store, job["id"], token, floor=0.6)
    reporter("preprocess", 0.1, "again")
    assert store.get(job["id"])["progress"] == pytest.approx(0.6)
    reporter("train", 0.8, "epoch 8/10")
    assert store.get(job["id"])["progress"] == pytest.approx(0.8)


def test_two_recoverers_at_once_supersede_only_once(settings):
    queue = JobQueue(settings)
    store = queue.store
    job = store.create("cover", {}, model=None)
    store.claim(job["id"])
    _orphan(store, job["id"], worker_pid=DEAD_PID, stage="work")
    results: list[dict] = []
    threads = [threading.Thread(target=lambda: results.append(recover(settings, queue))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(len(r["requeued"]) for r in results) == 1
    assert store.get(job["id"])["attempts"] == 1


# ---- waiting for the device: first come, first served ------------------------------------------------
def test_a_training_waiting_for_the_device_is_not_overtaken_by_later_covers(tmp_path):
    """Two slots, one held by a running cover: a training waits for both; covers that arrive
    after it would find the free slot at once, but wait their turn behind it."""
    from persona.jobs.devicelock import device_slots

    locks = tmp_path / "locks"
    queue = locks / "cpu.queue"
    order: list[str] = []
    lock = threading.Lock()

    def job(name: str, exclusive: bool) -> None:
        with device_slots(locks, "cpu", slots=2, exclusive=exclusive, poll_s=0.01), lock:
            order.append(name)

    def tickets() -> int:
        return len(list(queue.glob("[0-9]*")))

    threads = []
    with device_slots(locks, "cpu", slots=2, exclusive=False):
        for name, exclusive in [("train", True)] + [(f"cover{i}", False) for i in range(4)]:
            before = tickets()
            threads.append(threading.Thread(target=job, args=(name, exclusive)))
            threads[-1].start()
            wait_for(lambda before=before: tickets() > before, timeout=30, every=0.01)  # in line
        assert order == []  # nobody overtook the training, though a slot was free all along
    for t in threads:
        t.join(60)
    assert order[0] == "train" and sorted(order[1:]) == [f"cover{i}" for i in range(4)], order
    assert tickets() == 0
