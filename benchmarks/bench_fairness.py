"""Fairness across people: how long one person's single job waits behind another's burst.

Person A queues ``--burst`` device jobs (stand-ins of ``--job-s`` seconds each: the job system
alone, no engines), then person B queues one. Measured: B's wait (queued -> started) when B is
another person (the fair queue: ``persona.jobs.fairness``) and when the same job belongs to A
(what every job met before the queue knew people: first come, first served).

    python benchmarks/bench_fairness.py [--burst 10] [--job-s 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
from pathlib import Path

from persona.jobs import JobQueue
from persona.settings import Settings
from persona.testing.home import start_worker, stop_process, wait_for


def _t(iso: str) -> float:
    return dt.datetime.fromisoformat(iso).timestamp()


def run(burst: int, job_s: float, late_owner: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "home", assets_dir=Path(tmp) / "assets", device="cpu")
        queue = JobQueue(settings)
        job = {"steps": 10, "step_s": job_s / 10, "_device_use": "shared"}
        ids = [queue.submit("fixture", job, owner="a")["id"] for _ in range(burst)]
        late = queue.submit("fixture", job, owner=late_owner)["id"]
        worker = start_worker(settings, "--fixture-jobs")
        try:
            wait_for(
                lambda: all(queue.store.get(j)["status"] == "succeeded" for j in [*ids, late]), timeout=3600
            )
        finally:
            stop_process(worker)
        row = queue.store.get(late)
        started = sorted(_t(queue.store.get(j)["started_at"]) for j in [*ids, late])
        return {
            "late_owner": late_owner,
            "wait_s": round(_t(row["started_at"]) - _t(row["created_at"]), 1),
            "burst_jobs_before_it": started.index(_t(row["started_at"])),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--burst", type=int, default=10)
    ap.add_argument("--job-s", type=float, default=2.0)
    args = ap.parse_args()
    out = {
        "first_come_first_served": run(args.burst, args.job_s, "a"),
        "fair": run(args.burst, args.job_s, "b"),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
