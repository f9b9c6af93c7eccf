"""Everyone else is answered while hostile model files are refused (issue 24 item 1).

A whole ``persona serve`` (fixture home, stand-in jobs): four clients upload zips of hostile
``.pth`` files (``persona.testing.hostile``: billion-laughs ``info``, a 205 M-weight stride-0
tensor, a config within the maxima whose network is too big, and a zip whose member inflates
1000x) in a loop, while a fifth asks ``/api/health`` every 100 ms. Prints each upload's answer
and time, the health latencies (p50, p95, max) and the web process's resident memory before and
after (the checks run in the forkserver's children, not in it).

Usage: ``.venv/bin/python benchmarks/bench_hostile_uploads.py [rounds]``
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import requests

from persona.testing.home import live_server
from persona.testing.hostile import expanded_weights, huge_config_model, laughing_entry


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _zips(tmp: Path) -> dict[str, bytes]:
    out = {}
    for name, make in (
        ("info_laughs", laughing_entry("info")),
        ("expanded_205m", expanded_weights),
        ("config_2048", lambda p: huge_config_model(p, 2048)),
    ):
        pth = make(tmp / f"{name}.pth")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.write(pth, f"{name}.pth")
        out[name] = buf.getvalue()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(laughing_entry("info")(tmp / "bomb.pth"), "bomb.pth")
        zf.writestr("added_IVF1_Flat_nprobe_1_bomb_v2.index", bytes(64 << 20))
    out["zip_bomb_64mb"] = buf.getvalue()
    return out


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    print(f"load average: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        zips = _zips(tmp)
        with live_server(tmp / "home") as (base, pid):
            before = _rss_mb(pid)
            stop = threading.Event()
            health: list[float] = []
            results: list[tuple[str, int, str, float]] = []

            def poll() -> None:
                while not stop.is_set():
                    t0 = time.perf_counter()
                    requests.get(f"{base}/api/health", timeout=60)
                    health.append(time.perf_counter() - t0)
                    time.sleep(0.1)

            def upload(name: str, body: bytes) -> None:
                for i in range(rounds):
                    t0 = time.perf_counter()
                    r = requests.post(
                        f"{base}/api/models/upload",
                        files={"file": (f"{name}.zip", body)},
                        data={"name": f"{name}-{i}"},
                        timeout=300,
                    )
                    code = r.json().get("error", {}).get("code", "accepted")
                    results.append((name, r.status_code, code, time.perf_counter() - t0))

            poller = threading.Thread(target=poll)
            poller.start()
            uploads = [threading.Thread(target=upload, args=item) for item in zips.items()]
            for t in uploads:
                t.start()
            for t in uploads:
                t.join()
            stop.set()
            poller.join()
            after = _rss_mb(pid)
    for name, status, code, wall in sorted(results):
        print(f"{name:16} {status} {code:16} {wall:6.2f} s")
    q = statistics.quantiles(health, n=20)
    print(
        f"health: {len(health)} answers, p50 {statistics.median(health) * 1000:.0f} ms, "
        f"p95 {q[-1] * 1000:.0f} ms, max {max(health) * 1000:.0f} ms"
    )
    print(f"web process RSS: {before:.0f} MB before, {after:.0f} MB after")


if __name__ == "__main__":
    main()
