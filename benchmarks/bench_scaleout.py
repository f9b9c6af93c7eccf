"""Scale-out dispatch throughput and cross-process progress latency on the real servers.

Starts the whole deployment on this machine (``persona.testing.cluster.Cluster``): Redis,
PostgreSQL, nginx (deploy/nginx/persona.conf) in front of 2 ``persona serve --no-worker`` web
processes, 4 ``persona worker`` processes (fixture jobs: the job system alone, no engines). Then:

* dispatch: N quick jobs (``fixture``, 3 progress steps each) submitted at once through a
  ``JobQueue``; throughput = N / (last job finished - first submitted), and submit rate;
* progress latency: the worker writes a state (``updated_ts``, sent as ``reported_at``) ->
  ``job_progress`` arrives at a python-socketio client; clients on web A, web B (WebSocket) and
  through nginx; p50/p95 over every event (same clock: one machine);
* API p95 meanwhile: ``GET /api/jobs/{id}`` and ``GET /api/health`` through nginx, in a loop.

CPU seconds of every process of the deployment are reported next to wall time (this machine may
be shared). Usage: ``.venv/bin/python benchmarks/bench_scaleout.py [--jobs 200] [--workers 4]``
(ports 7050-7079).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

import requests

from persona.jobs import JobQueue
from persona.testing.cluster import Cluster, JobListener, wait_until


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def summary(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50_ms": round(pct(ms, 0.5), 1),
        "p95_ms": round(pct(ms, 0.95), 1),
        "max_ms": round(max(ms), 1),
        "mean_ms": round(statistics.mean(ms), 1),
    }


def group_cpu_seconds(pgids: set[int]) -> float:
    """utime + stime of every live process in these process groups (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in pgids:  # fields after ")": state ppid pgrp ...
            total += int(fields[11]) + int(fields[12])
    return total / tick


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--processes", type=int, default=2, help="job processes per worker")
    parser.add_argument("--out", type=Path, default=None, help="also write the result JSON here")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="persona-bench-scaleout-"))
    with Cluster(
        root,
        base_port=7050,
        webs=2,
        workers=args.workers,
        worker_processes=args.processes,
        worker_flags=("--fixture-jobs",),
    ) as cluster:
        queue = JobQueue(cluster.settings)
        listeners = {
            "web_a": JobListener(cluster.web_url(0)),
            "web_b": JobListener(cluster.web_url(1)),
            "nginx": JobListener(cluster.url()),
        }
        procs = [p for p in (*cluster.webs, *cluster.workers) if p is not None]
        pgids = {p.pid for p in procs} | {cluster.redis.proc.pid, cluster.pg.proc.pid}
        cpu0, load0 = group_cpu_seconds(pgids), os.getloadavg()
        stop = threading.Event()
        api: dict[str, list[float]] = {"job": [], "health": []}
        ids: list[str] = []

        def poll_api() -> None:
            session = requests.Session()
            while not stop.is_set():
                if ids:
                    t = time.perf_counter()
                    session.get(cluster.url(f"/api/jobs/{random.choice(ids)}"), timeout=30)
                    api["job"].append(time.perf_counter() - t)
                t = time.perf_counter()
                session.get(cluster.url("/api/health"), timeout=30)
                api["health"].append(time.perf_counter() - t)

        poller = threading.Thread(target=poll_api, daemon=True)
        poller.start()
        t0 = time.time()
        for _ in range(args.jobs):
            ids.append(queue.submit("fixture", {"steps": 3, "step_s": 0.0})["id"])
        t_submitted = time.time()
        wait_until(
            lambda: sum(queue.store.count_active().values()) == 0, timeout=1800, every=0.2, what="done"
        )
        jobs = [j for j in queue.store.list(limit=10 * args.jobs) if j["id"] in set(ids)]
        assert len(jobs) == args.jobs and all(j["status"] == "succeeded" for j in jobs)
        t_done = max(j["updated_ts"] for j in jobs)
        for listener in listeners.values():
            for job_id in ids:
                listener.wait_final(job_id, timeout=120)
        stop.set()
        poller.join(timeout=30)
        cpu1, load1 = group_cpu_seconds(pgids), os.getloadavg()
        latency = {}
        for name, listener in listeners.items():
            lags = [
                received - data["reported_at"]
                for event, data, received in listener.events
                if event == "job_progress" and data.get("reported_at") and data["job_id"] in set(ids)
            ]
            latency[name] = summary(lags)
            finals = {job_id: listener.finals(job_id) for job_id in ids}
            latency[name]["every_job_ended_once"] = all(f == ["job_done"] for f in finals.values())
            listener.close()
        by_worker: dict[int | None, int] = {}
        for j in jobs:
            w = cluster.worker_of_pid(j["worker_pid"])
            by_worker[w] = by_worker.get(w, 0) + 1
        result = {
            "jobs": args.jobs,
            "workers": args.workers,
            "processes_per_worker": args.processes,
            "web_processes": 2,
            "submit_jobs_per_s": round(args.jobs / (t_submitted - t0), 1),
            "dispatch_jobs_per_s": round(args.jobs / (t_done - t0), 1),
            "wall_s": round(t_done - t0, 2),
            "deployment_cpu_s": round(cpu1 - cpu0, 1),
            "jobs_per_worker": {str(k): v for k, v in sorted(by_worker.items(), key=str)},
            "progress_latency": latency,
            "api_while_dispatching": {k: summary(v) for k, v in api.items()},
            "loadavg_before": [round(x, 2) for x in load0],
            "loadavg_after": [round(x, 2) for x in load1],
            "cpus": os.cpu_count(),
        }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
