"""Slow clients against one ``persona serve`` (64 threads, fixture home): the latency of an
authorised ``GET /api/health`` while each attack runs (issue 24 item 3).

Attacks (``persona.testing.slow_clients``): 150 connections sending headers one line every 2 s,
from one address and from 30; 70 legal uploads at 20 KiB/s each, with a token (the uploads carry
it) and without one, from one address and from 30. Each attack runs ``--warmup`` seconds, then
health is polled every 0.25 s for ``--seconds`` (10 s timeout; a timeout counts as infinitely slow).

Usage: ``.venv/bin/python benchmarks/bench_slow_clients.py [--seconds 20]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time

from persona.testing.home import live_server
from persona.testing.slow_clients import SlowHeaders, SlowUploads, health_latencies, summary

TOKEN = "bench-token"


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) of every live process in a process group (the server's)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state ppid pgrp ... utime(11) stime(12)
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=6.0)
    ap.add_argument("--only", default="", help="attack names separated by semicolons")
    args = ap.parse_args()
    attacks = {
        "none (token)": (True, lambda h, p: None),
        "150 slow headers, 1 address (token)": (True, lambda h, p: SlowHeaders(h, p, n=150)),
        "150 slow headers, 30 addresses (token)": (True, lambda h, p: SlowHeaders(h, p, n=150, sources=30)),
        "70 uploads at 20 KiB/s, 1 address (token holder)": (
            True,
            lambda h, p: SlowUploads(h, p, n=70, token=TOKEN),
        ),
        "70 uploads at 20 KiB/s, 30 addresses (no token)": (
            False,
            lambda h, p: SlowUploads(h, p, n=70, sources=30),
        ),
        "70 uploads at 20 KiB/s, 1 address (no token)": (False, lambda h, p: SlowUploads(h, p, n=70)),
    }
    only = {a.strip() for a in args.only.split(";") if a.strip()}
    print(f"load average: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs")
    print(
        f"{'attack':52} {'n':>4} {'failed':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'open':>5} {'cut':>5}"
    )
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        servers: dict[bool, tuple[str, int, dict[str, str]]] = {}
        for name, (token, make) in attacks.items():
            if only and name not in only:
                continue
            if token not in servers:
                root = os.path.join(tmp, "tok" if token else "open")
                base, pgid = stack.enter_context(live_server(root, token=TOKEN if token else None))
                servers[token] = (base, pgid, {"Authorization": f"Bearer {TOKEN}"} if token else {})
            base, pgid, headers = servers[token]
            port = int(base.rsplit(":", 1)[1])
            attack = make("127.0.0.1", port)
            cpu0 = group_cpu_s(pgid)
            if attack is None:
                lat = health_latencies(f"{base}/api/health", headers, args.seconds)
                open_now = cut = 0
            else:
                with attack:
                    time.sleep(args.warmup)
                    lat = health_latencies(f"{base}/api/health", headers, args.seconds)
                    open_now, cut = attack.open_now, attack.closed
            s = summary(lat)
            print(
                f"{name:52} {s['n']:4d} {s['failed']:6d} {s['p50_ms']:8.1f} {s['p95_ms']:8.1f}"
                f" {s['max_ms']:8.1f} {open_now:5d} {cut:5d} {group_cpu_s(pgid) - cpu0:9.1f}",
                flush=True,
            )
            time.sleep(3)  # let the server close what the attack left
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
