"""Scale-out on the real servers: Redis (queue, Socket.IO message queue, worker heartbeats),
PostgreSQL (job store), nginx (the shipped deploy/nginx/persona.conf) in front of two
``persona serve --no-worker`` web processes, two ``persona worker`` processes running the real
engines on the tiny fixture home. The servers are Debian's, started here on 127.0.0.1 ports
7000-7099 in temporary folders; without them the tests skip, except in CI, where they fail.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from persona.jobs import JobQueue
from persona.testing.cluster import Cluster, JobListener, wait_until
from persona.testing.services import require

pytestmark = pytest.mark.slow
TERMINAL = ("succeeded", "failed", "cancelled")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    for binary in ("redis-server", "initdb", "postgres", "nginx"):
        require(binary)
    root = tmp_path_factory.mktemp("scaleout")
    with Cluster(root, base_port=7000, webs=2, workers=2, worker_flags=("--tiny-models",)) as c:
        yield c


@pytest.fixture(scope="module")
def queue(cluster):
    return JobQueue(cluster.settings)  # a third submitter, like another web process


def quick(queue: JobQueue, n: int, **params) -> list[str]:
    return [queue.submit("fixture", {"steps": 4, "step_s": 0.05, **params})["id"] for _ in range(n)]


def ended(queue: JobQueue, ids: list[str]):
    jobs = [queue.store.get(i) for i in ids]
    return jobs if all(j["status"] in TERMINAL for j in jobs) else None


def post_training(base: str, root: Path, name: str, epochs: int = 1) -> str:
    with open(root / "voice1.wav", "rb") as f1:
        r = requests.post(
            f"{base}/api/trainings",
            data={"name": name, "epochs": str(epochs)},
            files=[("files", ("a.wav", f1, "audio/wav"))],
            timeout=60,
        )
    assert r.status_code == 202, r.text
    return r.json()["job_id"]


def post_cover(base: str, root: Path) -> str:
    with open(root / "song.wav", "rb") as song:
        r = requests.post(
            f"{base}/api/covers",
            data={"model": "데모 목소리", "pitch": "0"},
            files={"song": ("노래.wav", song, "audio/wav")},
            timeout=60,
        )
    assert r.status_code == 202, r.text
    return r.json()["job_id"]


def test_every_web_process_lists_the_live_workers(cluster):
    for i in range(2):
        workers = cluster.health(i)["workers"]
        assert len(workers) == 2, workers
        for w in workers:
            assert w["device"] == "cpu" and w["queue"] == "cpu" and w["memory_bytes"] > 0
            assert time.time() - w["beat"] < 30
    through_nginx = requests.get(cluster.url("/api/health"), timeout=10).json()
    assert {w["id"] for w in through_nginx["workers"]} == {w["id"] for w in cluster.health(1)["workers"]}


def test_mixed_jobs_each_end_once_and_reach_both_web_processes(cluster, queue):
    on_a = JobListener(cluster.web_url(0))
    on_b = JobListener(cluster.web_url(1))
    via_nginx = JobListener(cluster.url(), transports=("polling", "websocket"))  # sticky upstream
    try:
        cover = post_cover(cluster.web_url(1), cluster.root)  # a real cover, submitted on web B
        ids = [cover, *quick(queue, 24)]
        jobs = all_ended(cluster, queue, ids, timeout=600)
        assert [j["status"] for j in jobs] == ["succeeded"] * len(ids), [(j["id"], j["error"]) for j in jobs]
        assert all(j["attempts"] == 1 for j in jobs)
        for listener in (on_a, on_b, via_nginx):
            for job_id in ids:
                listener.wait_final(job_id, timeout=30)
            assert all(listener.finals(j) == ["job_done"] for j in ids)  # each ends once, everywhere
        stages = [p["stage"] for p in on_a.progress_of(cover) if p["status"] == "running"]
        assert len(set(stages)) >= 2  # web A streamed the progress of web B's cover
        fractions = [p["progress"] for p in via_nginx.progress_of(ids[1])]
        assert len(fractions) >= 2 and fractions == sorted(fractions)
        workers = {cluster.worker_of_pid(j["worker_pid"]) for j in jobs[1:]}
        assert workers == {0, 1}  # both workers took jobs
        cover_id = jobs[0]["result"]["cover_id"]
        audio = requests.get(
            cluster.url(f"/api/covers/{cover_id}/audio"), headers={"Range": "bytes=0-3"}, timeout=10
        )
        assert audio.status_code == 206 and audio.content == b"RIFF"
        assert not half_written(cluster)
    finally:
        for listener in (on_a, on_b, via_nginx):
            listener.close()


def half_written(cluster) -> list[str]:
    home = cluster.settings.home
    return [
        p.name
        for d in ("models", "covers")
        for p in (home / d).iterdir()
        if p.name.startswith((".tmp", ".trash"))
    ]


def all_ended(cluster, queue: JobQueue, ids: list[str], timeout: float) -> list[dict]:
    try:
        return wait_until(lambda: ended(queue, ids), timeout=timeout, what="all jobs ended")
    except AssertionError:
        states = [
            (j["id"], j["kind"], j["status"], j["stage"], j["attempts"]) for j in map(queue.store.get, ids)
        ]
        raise AssertionError(f"jobs did not end: {states}\n{cluster.logs_text()}") from None


def test_a_job_whose_worker_is_killed_ends_with_a_reason_never_left_running(cluster, queue):
    """A quick job gets one try (a training is re-queued and resumes: test_scaleout_routing.py)."""
    listener = JobListener(cluster.web_url(0))
    try:
        [job_id] = quick(queue, 1, steps=60, step_s=0.2)
        job = wait_until(
            lambda: (j := queue.store.get(job_id))["status"] == "running" and j["progress"] > 0 and j,
            timeout=60,
            what="job running",
        )
        victim = cluster.worker_of_pid(job["worker_pid"])
        assert victim is not None
        cluster.kill_worker(victim)  # kill -9 of the worker and its job processes
        try:  # designed bound: JOB_TTL_S (20 s) + one recovery round (5 s); room for a loaded machine
            done = all_ended(cluster, queue, [job_id], timeout=90)[0]
        finally:
            cluster.start_worker(victim)
        assert done["status"] == "failed" and done["error"]["code"] == "interrupted", done
        assert listener.wait_final(job_id) == "job_failed" and listener.finals(job_id) == ["job_failed"]
        assert not (cluster.settings.jobs_dir / job_id).exists()
        more = quick(queue, 4)  # the cluster works on, with the worker started again
        assert [j["status"] for j in all_ended(cluster, queue, more, timeout=120)] == ["succeeded"] * 4
        wait_until(
            lambda: len(cluster.health(1).get("workers", [])) == 2, timeout=60, what="two live workers"
        )
    finally:
        listener.close()


def test_a_web_process_restart_is_survived(cluster, queue):
    cluster.kill_web(0)  # maybe the broadcaster: web B takes over within a few seconds
    listener_b = JobListener(cluster.web_url(1))
    try:
        for _ in range(5):  # nginx sends the API to the live process
            assert requests.get(cluster.url("/api/jobs?limit=5"), timeout=10).status_code == 200
        ids = quick(queue, 3)
        for job_id in ids:
            assert listener_b.wait_final(job_id, timeout=60) == "job_done"
        cluster.start_web(0)
        cluster.wait_web(0)
        listener_a = JobListener(cluster.web_url(0))
        try:
            more = quick(queue, 3)
            for job_id in more:
                assert listener_a.wait_final(job_id, timeout=60) == "job_done"
                assert listener_b.wait_final(job_id, timeout=60) == "job_done"
            assert all(listener_a.finals(j) == ["job_done"] for j in more)
        finally:
            listener_a.close()
    finally:
        listener_b.close()


def test_losing_postgres_then_redis_answers_503_and_loses_nothing(cluster, queue):
    [long_job] = quick(queue, 1, steps=40, step_s=0.25)
    wait_until(lambda: queue.store.get(long_job)["status"] == "running", timeout=60, what="running")
    cluster.pg.stop()
    try:
        for i in range(2):
            r = requests.get(cluster.web_url(i, "/api/jobs"), timeout=30)
            assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable", r.text
        r = requests.get(cluster.url("/api/health"), timeout=30)
        assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable"
        time.sleep(3)  # the job runs on; its progress waits for the database
    finally:
        cluster.pg.start_again()
    wait_until(
        lambda: requests.get(cluster.url("/api/jobs"), timeout=10).status_code == 200,
        timeout=60,
        what="db back",
    )
    done = all_ended(cluster, queue, [long_job], timeout=120)[0]
    assert done["status"] == "succeeded" and done["attempts"] == 1, done

    cluster.redis.stop()
    try:
        r = requests.get(cluster.web_url(0, "/api/health"), timeout=30)
        assert r.status_code == 503 and r.json()["error"]["code"] == "queue_unavailable", r.text
        upload = post_training(cluster.web_url(1), cluster.root, "while-redis-was-away")  # real training
        queued = requests.get(cluster.web_url(0, f"/api/jobs/{upload}"), timeout=10).json()
        assert queued["status"] == "queued"  # accepted and kept in PostgreSQL
        [waiting] = quick(queue, 1)
    finally:
        cluster.redis.start()
    jobs = all_ended(cluster, queue, [upload, waiting], timeout=600)
    assert [j["status"] for j in jobs] == ["succeeded", "succeeded"], [j["error"] for j in jobs]
    model = requests.get(cluster.url("/api/models/while-redis-was-away"), timeout=10)
    assert model.status_code == 200 and model.json()["source"] == "trained", model.text
    assert not half_written(cluster)
