"""Web service latency while a training job runs on the same machine.

Starts a real server (`python -m persona.testing.home DIR --serve --tiny-models`: gunicorn gthread
+ Socket.IO + embedded huey worker processes) on a fixture home, starts a real (tiny) training job
through the API, and while it trains measures:

* ``GET /api/jobs/{id}``: p50/p95 over N sequential requests (keep-alive session);
* Socket.IO round trip: ``call("subscribe")`` -> ack, p50/p95 over N calls (WebSocket transport);
* progress delivery: worker writes a progress state -> ``job_progress`` arrives at the client
  (``reported_at`` vs receive time, same clock), p50/p95 over every event seen.

Usage: ``.venv/bin/python benchmarks/bench_server.py [--n 300] [--fixture-jobs]``
(``--fixture-jobs``: the stand-in training, to measure the service without the training's CPU load).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import socketio

from persona.testing.home import start_server, stop_process, wait_for


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def summary(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {
        "n": len(ms),
        "p50_ms": round(pct(ms, 0.5), 2),
        "p95_ms": round(pct(ms, 0.95), 2),
        "mean_ms": round(statistics.mean(ms), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--fixture-jobs", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="persona-bench-"))
    log = open(root / "server.log", "w")  # noqa: SIM115
    mode = ["--fixture-jobs", "--no-assets"] if args.fixture_jobs else ["--tiny-models"]
    proc, base = start_server(root, *mode, log=log)
    try:
        wait_for(lambda: _up(base, proc, root), timeout=600, every=0.5)
        from persona.testing.training import write_recordings

        recordings = write_recordings(root / "rec", count=2, seconds=7.0, f0=220.0)
        files = [("files", (p.name, p.read_bytes(), "audio/wav")) for p in recordings]
        r = requests.post(
            f"{base}/api/trainings",
            data={
                "name": "bench",
                "epochs": "1000",
                "batch_size": "2",
                "f0_method": "pm",
                "save_every": "1000",
            },
            files=files,
            timeout=60,
        )
        r.raise_for_status()
        job_id = r.json()["job_id"]
        received: dict[float, float] = {}  # reported_at -> first receipt delay
        lock = threading.Lock()
        sio = socketio.Client(reconnection=False)

        @sio.on("job_progress")
        def on_progress(data):
            now = time.time()
            stamp = data.get("reported_at")
            if stamp and data["status"] == "running":
                with lock:  # a subscribe re-sends the current state: count each state's first arrival
                    received.setdefault(stamp, now - stamp)

        sio.connect(base, transports=["websocket"])
        sio.call("subscribe", {"job_id": job_id}, timeout=10)
        # wait until the training really trains (its CPU load is what we measure under)
        wait_for(
            lambda: _training(base, job_id),
            timeout=600,
            every=0.5,
        )
        session = requests.Session()
        get_times = []
        for _ in range(args.n):
            t = time.perf_counter()
            resp = session.get(f"{base}/api/jobs/{job_id}", timeout=10)
            get_times.append(time.perf_counter() - t)
            assert resp.status_code == 200
        rtt = []
        for _ in range(args.n):
            t = time.perf_counter()
            sio.call("subscribe", {"job_id": job_id}, timeout=10)
            rtt.append(time.perf_counter() - t)
        time.sleep(5)  # collect more progress events
        job = session.get(f"{base}/api/jobs/{job_id}", timeout=10).json()
        session.post(f"{base}/api/jobs/{job_id}/cancel", timeout=10)
        sio.disconnect()
        with lock:
            delivery = list(received.values())
        result = {
            "training": "stand-in (fixture)" if args.fixture_jobs else "tiny real training (torch, CPU)",
            "job_stage_during": job["stage"],
            "get_job": summary(get_times),
            "socketio_round_trip": summary(rtt),
            "progress_delivery": summary(delivery) if delivery else None,
        }
        print(json.dumps(result, indent=2))
    finally:
        stop_process(proc)
        log.close()
    return 0


def _training(base: str, job_id: str) -> bool:
    job = requests.get(f"{base}/api/jobs/{job_id}", timeout=10).json()
    if job["status"] in ("failed", "cancelled", "succeeded"):
        raise SystemExit(f"the training ended early: {job}")
    return job["stage"] == "train"


def _up(base: str, proc, root: Path) -> bool:
    if proc.poll() is not None:
        raise SystemExit((root / "server.log").read_text()[-3000:])
    try:
        return requests.get(f"{base}/api/health", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


if __name__ == "__main__":
    sys.exit(main())
