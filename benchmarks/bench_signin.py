"""Sign-in cost and its sameness: unknown name vs wrong password vs right password (argon2id at
argon2-cffi's default cost, through the Flask test client), and what the accounts gate adds to
an ordinary request (single-person vs session cookie vs personal access token).

Usage: ``.venv/bin/python benchmarks/bench_signin.py [--n 20]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from persona.accounts import credentials
from persona.accounts.store import Accounts
from persona.server import create_app
from persona.settings import Settings

PASSWORD = "correct horse battery staple"


def timed(fn, n: int) -> tuple[float, float]:
    """Median wall ms and mean CPU ms of ``fn()`` over ``n`` runs."""
    walls, cpus = [], []
    for _ in range(n):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - w0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    return statistics.median(walls), statistics.mean(cpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        single = Settings(home=Path(tmp) / "single", device="cpu")
        plain = create_app(single, web_dist=None).test_client()
        settings = Settings(
            home=Path(tmp) / "home",
            device="cpu",
            signin_per_account="100000/minute",
            signin_per_address="100000/minute",
        )
        acc = Accounts.of(settings)
        user = acc.create("mina", PASSWORD, admin=True)
        app = create_app(settings, web_dist=None)
        client = app.test_client()
        _, token = credentials.issue_token(acc, user["id"])

        def post(name: str, password: str) -> None:
            r = client.post("/api/session", json={"username": name, "password": password})
            assert r.status_code in (200, 401), r.status_code

        print(f"{'request':44} {'median wall ms':>15} {'mean CPU ms':>12}")
        rows = [
            ("sign-in, unknown name (401)", lambda: post("nobody", PASSWORD)),
            ("sign-in, wrong password (401)", lambda: post("mina", "a wrong password here")),
            ("sign-in, right password (200)", lambda: post("mina", PASSWORD)),
            ("GET /api/jobs, single-person mode", lambda: plain.get("/api/jobs")),
            ("GET /api/jobs, session cookie", lambda: client.get("/api/jobs")),
            (
                "GET /api/jobs, access token",
                lambda: app.test_client().get("/api/jobs", headers={"Authorization": f"Bearer {token}"}),
            ),
        ]
        for label, fn in rows:
            fn()  # warm
            wall, cpu = timed(fn, args.n)
            print(f"{label:44} {wall:15.1f} {cpu:12.1f}")


if __name__ == "__main__":
    main()
