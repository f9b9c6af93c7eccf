"""Queues per device class on a real Redis: GPU-heavy jobs go only to GPU workers while one is
live, light jobs to CPU workers; a CPU-only cluster runs everything. Two real ``persona worker``
processes (fixture jobs, one claiming ``--device cuda``) share a home and its SQLite job store.
"""

from __future__ import annotations

import signal

import pytest

from persona.jobs import JobQueue
from persona.jobs.cluster import WorkerRegistry, route
from persona.testing.cluster import wait_until
from persona.testing.home import start_worker, stop_process
from persona.testing.services import RedisServer, require

pytestmark = pytest.mark.slow


def test_route_prefers_the_jobs_device_class_and_falls_back_to_what_is_live():
    assert route(True, {"cuda", "cpu"}) == "cuda" and route(False, {"cuda", "cpu"}) == "cpu"
    assert route(True, {"cpu"}) == "cpu"  # a CPU-only cluster still trains
    assert route(False, {"cuda"}) == "cuda"  # a GPU-only cluster still runs quick jobs
    assert route(True, set()) == "cuda" and route(False, set()) == "cpu"  # nobody yet: wait there


@pytest.fixture
def redis(tmp_path, monkeypatch):
    require("redis-server")
    server = RedisServer(tmp_path / "redis", 7031).start()
    monkeypatch.setenv("PERSONA_REDIS_URL", server.url)  # for the worker processes
    yield server
    server.stop()


def test_heavy_jobs_go_to_the_gpu_worker_and_to_cpus_when_it_is_gone(settings, redis):
    settings = settings.replace(redis_url=redis.url)
    settings.home.mkdir(parents=True)
    gpu = start_worker(settings.replace(device="cuda"), "--fixture-jobs")
    cpu = start_worker(settings, "--fixture-jobs")
    try:
        registry = WorkerRegistry(redis.url)
        wait_until(lambda: {w["queue"] for w in registry.live()} == {"cuda", "cpu"}, timeout=120)
        by_queue = {w["queue"]: w for w in registry.live()}
        assert by_queue["cuda"]["device"] == "cuda" and by_queue["cpu"]["memory_bytes"] > 0
        queue = JobQueue(settings)
        heavy = queue.submit("train", {"name": "gpu-voice", "epochs": 2, "_step_s": 0.05}, model="gpu-voice")
        light = queue.submit("fixture", {"steps": 2, "step_s": 0.01})
        assert heavy["params"]["_queue"] == "cuda" and light["params"]["_queue"] == "cpu"
        done = wait_until(
            lambda: all(queue.store.get(j["id"])["status"] == "succeeded" for j in (heavy, light)),
            timeout=120,
        )
        assert done
        assert _group(queue.store.get(heavy["id"])["worker_pid"]) == gpu.pid
        assert _group(queue.store.get(light["id"])["worker_pid"]) == cpu.pid

        stop_process(gpu, signal.SIGTERM)  # a clean stop withdraws the GPU worker at once
        wait_until(lambda: {w["queue"] for w in registry.live()} == {"cpu"}, timeout=60)
        later = queue.submit("train", {"name": "cpu-voice", "epochs": 2, "_step_s": 0.05}, model="cpu-voice")
        assert later["params"]["_queue"] == "cpu"
        wait_until(lambda: queue.store.get(later["id"])["status"] == "succeeded", timeout=120)
        assert _group(queue.store.get(later["id"])["worker_pid"]) == cpu.pid
    finally:
        stop_process(gpu, signal.SIGKILL)
        stop_process(cpu, signal.SIGKILL)


def test_a_job_waiting_for_a_class_that_died_moves_to_a_live_one(settings, redis):
    settings = settings.replace(redis_url=redis.url)
    settings.home.mkdir(parents=True)
    registry = WorkerRegistry(redis.url)
    registry.advertise({"id": "gone:1", "queue": "cuda", "device": "cuda"})  # a GPU worker, then silence
    queue = JobQueue(settings)
    job = queue.submit("train", {"name": "stranded", "epochs": 1, "_step_s": 0.01}, model="stranded")
    assert job["params"]["_queue"] == "cuda"
    registry.withdraw("gone:1")
    cpu = start_worker(settings, "--fixture-jobs")  # its first recovery moves the job to the cpu queue
    try:
        wait_until(lambda: queue.store.get(job["id"])["status"] == "succeeded", timeout=120)
        got = queue.store.get(job["id"])
        assert got["params"]["_queue"] == "cpu" and got["attempts"] == 1
    finally:
        stop_process(cpu, signal.SIGKILL)


def _group(pid: int) -> int | None:
    import os

    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def test_a_training_whose_worker_is_killed_resumes_on_another_worker(settings, redis):
    settings = settings.replace(redis_url=redis.url)
    settings.home.mkdir(parents=True)
    workers = [start_worker(settings, "--fixture-jobs") for _ in range(2)]
    try:
        registry = WorkerRegistry(redis.url)
        wait_until(lambda: len(registry.live()) == 2, timeout=120)
        queue = JobQueue(settings)
        job = queue.submit("train", {"name": "survivor", "epochs": 40, "_step_s": 0.25}, model="survivor")
        running = wait_until(
            lambda: (j := queue.store.get(job["id"]))["status"] == "running" and j["progress"] > 0 and j,
            timeout=60,
        )
        victim = next(w for w in workers if w.pid == _group(running["worker_pid"]))
        stop_process(victim, signal.SIGKILL)  # kill -9: the worker and its job process
        again = wait_until(lambda: (j := queue.store.get(job["id"]))["attempts"] == 2 and j, timeout=60)
        assert again["params"]["resume"] is True  # the trainer continues from its checkpoint
        done = wait_until(
            lambda: (j := queue.store.get(job["id"]))["status"] in ("succeeded", "failed") and j, timeout=120
        )
        assert done["status"] == "succeeded" and done["attempts"] == 2
        survivor = next(w for w in workers if w is not victim)
        assert _group(done["worker_pid"]) == survivor.pid
    finally:
        for w in workers:
            stop_process(w, signal.SIGKILL)


def test_a_job_on_another_host_is_orphaned_only_when_its_liveness_key_is_gone():
    import time

    from persona.jobs.cluster import JOB_TTL_S
    from persona.jobs.recovery import is_orphan

    now = time.time()
    job = {"id": "j1", "worker_host": "gpu-box-7", "worker_pid": 1, "heartbeat": now - 3600}
    assert not is_orphan(job, now=now, alive={"j1"})  # its worker still beats in Redis
    assert is_orphan(job, now=now, alive=set())  # the key expired: that machine is gone
    fresh = {**job, "heartbeat": now - JOB_TTL_S / 2}  # claimed a moment ago, key not written yet
    assert not is_orphan(fresh, now=now, alive=set())
