"""Socket.IO clients per web process behind the shipped nginx config (issue 24 item 4).

One ``persona serve --no-worker`` web process behind ``deploy/nginx/persona.conf``
(``persona.testing.cluster``, Redis and PostgreSQL included). N raw Socket.IO clients
(``persona.testing.wsclient``, WebSocket transport, from 127.0.0.2-15, 8 per address at most)
join "/" through nginx; then ``GET /api/health`` through nginx is polled for ``--seconds``.
``--as-before`` starts the web process as the cluster helper did before: 32 threads and no
trusted proxy (every browser then has nginx's address).

Usage: ``.venv/bin/python benchmarks/bench_proxy_sockets.py [--clients 105] [--as-before]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile

import persona.testing.cluster as cluster_mod
from persona.testing.cluster import Cluster
from persona.testing.slow_clients import health_latencies, summary
from persona.testing.wsclient import socketio_connect


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=105)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--as-before", action="store_true")
    args = ap.parse_args()
    if args.as_before:
        cluster_mod.WEB_THREADS, cluster_mod.TRUSTED_PROXIES = 32, ""
    print(
        f"load average: {os.getloadavg()[0]:.2f}; web threads {cluster_mod.WEB_THREADS}, "
        f"trusted proxies {cluster_mod.TRUSTED_PROXIES or 'none'}"
    )
    with tempfile.TemporaryDirectory() as tmp, Cluster(tmp, base_port=7060, webs=1, workers=0) as c:
        held, answers = [], {}
        try:
            for i in range(args.clients):
                sock, answer = socketio_connect("127.0.0.1", c.nginx_port, source=f"127.0.0.{2 + i % 14}")
                held.append(sock)
                key = "joined" if answer.startswith("40") else answer
                answers[key] = answers.get(key, 0) + 1
            lat = health_latencies(c.url("/api/health"), seconds=args.seconds)
        finally:
            for sock in held:
                with contextlib.suppress(OSError):
                    sock.close()
    s = summary(lat)
    print(f"clients: {answers}")
    print(
        f"health through nginx meanwhile: {s['n']} requests, {s['failed']} failed, "
        f"p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms, max {s['max_ms']:.1f} ms"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
