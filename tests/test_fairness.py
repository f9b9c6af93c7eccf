"""The queue is fair across people: the next device job is the oldest of the person served least."""

from __future__ import annotations

from persona.jobs.fairness import fair_order


def _job(seq: int, owner: str, kind: str = "cover") -> dict:
    return {"id": f"{owner}{seq}", "seq": seq, "created_at": f"2026-12-07T10:00:{seq:02d}", "owner": owner,
            "kind": kind, "params": {}}  # fmt: skip


def test_one_persons_burst_does_not_hold_another_back():
    burst = [_job(i, "a") for i in range(1, 11)]
    late = _job(20, "b")
    order = fair_order(burst[1:] + [late], running=[burst[0]], last_start={"a": "2026-12-07T10:00:01"})
    assert order[0]["id"] == "b20"  # starts right after the one of a's that is running
    assert [j["id"] for j in order[1:]] == [f"a{i}" for i in range(2, 11)]  # a's keep their order


def test_two_busy_people_alternate_and_a_newcomer_goes_first():
    a = [_job(i, "a") for i in range(1, 4)]
    b = [_job(i, "b") for i in range(4, 7)]
    c = [_job(9, "c")]
    last = {"a": "2026-12-07T09:00:00", "b": "2026-12-07T09:30:00"}
    order = [j["id"] for j in fair_order(a + b + c, running=[], last_start=last)]
    assert order == ["c9", "a1", "b4", "a2", "b5", "a3", "b6"]


def test_without_accounts_it_is_first_come_first_served():
    jobs = [_job(i, "") for i in (3, 1, 2)]
    assert [j["seq"] for j in fair_order(jobs, running=[_job(0, "")], last_start={"": "x"})] == [1, 2, 3]


def _started_order(settings, burst_owner: str, late_owner: str) -> list[str]:
    from persona.jobs import JobQueue
    from persona.testing.home import start_worker, stop_process, wait_for

    queue = JobQueue(settings)
    # each job lasts over a second: ``started_at`` has whole seconds, so starts never tie
    device_job = {"steps": 3, "step_s": 0.4, "_device_use": "shared"}
    burst = [queue.submit("fixture", device_job, owner=burst_owner)["id"] for _ in range(4)]
    late = queue.submit("fixture", device_job, owner=late_owner)["id"]
    worker = start_worker(settings, "--fixture-jobs")
    try:
        ended = lambda: all(queue.store.get(j)["status"] == "succeeded" for j in [*burst, late])  # noqa: E731
        wait_for(ended, timeout=120)
    finally:
        stop_process(worker)
    jobs = sorted((queue.store.get(j) for j in [*burst, late]), key=lambda j: j["started_at"])
    return ["late" if j["id"] == late else "burst" for j in jobs]


def test_a_worker_starts_another_persons_job_after_at_most_one_of_a_burst(settings):
    assert _started_order(settings, "a", "b").index("late") <= 1


def test_one_persons_own_jobs_keep_their_order(settings):
    assert _started_order(settings, "a", "a")[-1] == "late"
