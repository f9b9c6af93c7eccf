"""A whole scale-out deployment on one machine, for the scale-out tests and benchmark: Redis,
PostgreSQL, N ``persona serve --no-worker`` web processes behind nginx (the shipped
``deploy/nginx/persona.conf``), M ``persona worker`` processes, all on one fixture home.

    with Cluster(root, base_port=7000, webs=2, workers=2, worker_flags=("--tiny-models",)) as c:
        requests.get(c.url("/api/health"))         # through nginx
        requests.get(c.web_url(0, "/api/health"))  # web process 0 directly

Every process runs in its own process group, so ``kill_worker(i)`` (SIGKILL to the group) is a
machine dying: the worker and the job processes it forked go at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from persona.settings import Settings
from persona.testing.home import build_home, stop_process, wait_for
from persona.testing.services import (
    NginxServer,
    PostgresServer,
    RedisServer,
    nginx_config,
    port_free,
    wait_port,
)

_CLI = "import sys; from persona.cli import main; sys.exit(main(sys.argv[1:]))"
DEPLOY_CONF = Path(__file__).resolve().parents[3] / "deploy" / "nginx" / "persona.conf"
# As deploy/nginx/persona.conf says: nginx's X-Forwarded-For believed, and threads for 120 live
# Socket.IO clients per web process (a quarter of them stays for ordinary requests).
WEB_THREADS = 160
TRUSTED_PROXIES = "127.0.0.1"


class Cluster:
    def __init__(
        self,
        root: str | Path,
        *,
        base_port: int,
        webs: int = 2,
        workers: int = 2,
        worker_processes: int = 2,
        worker_flags: tuple[str, ...] = (),
        nginx: bool = True,
    ) -> None:
        self.root = Path(root)
        self.base_port = base_port
        self.n_webs, self.n_workers = webs, workers
        self.worker_processes = worker_processes
        self.worker_flags = worker_flags
        self.with_nginx = nginx
        self.redis = RedisServer(self.root / "redis", base_port + 1)
        self.pg = PostgresServer(base_port + 2)
        self.nginx: NginxServer | None = None
        self.webs: list[subprocess.Popen | None] = [None] * webs
        self.workers: list[subprocess.Popen | None] = [None] * workers
        self.logs: list = []
        self.settings: Settings | None = None

    # ---- addresses --------------------------------------------------------------------------
    def web_port(self, i: int) -> int:
        return self.base_port + 11 + i

    @property
    def nginx_port(self) -> int:
        return self.base_port + 10

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.nginx_port}{path}"

    def web_url(self, i: int, path: str = "") -> str:
        return f"http://127.0.0.1:{self.web_port(i)}{path}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PERSONA_REDIS_URL": self.redis.url,
            "PERSONA_DATABASE_URL": self.pg.url,
            "PERSONA_TRUSTED_PROXIES": TRUSTED_PROXIES,
            "PYTHONUNBUFFERED": "1",
        }

    # ---- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> Cluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def ports(self) -> list[int]:
        return [
            self.redis.port,
            self.pg.port,
            self.nginx_port,
            *(self.web_port(i) for i in range(self.n_webs)),
        ]

    def start(self) -> None:
        busy = [p for p in self.ports() if not port_free(p)]
        if busy:  # never talk to a stranger's server (or a leftover of an earlier run) on our ports
            raise RuntimeError(f"ports already in use: {busy}")
        self.root.mkdir(parents=True, exist_ok=True)
        self.redis.start()
        self.pg.start()
        base = build_home(self.root)
        self.settings = base.replace(redis_url=self.redis.url, database_url=self.pg.url)
        for i in range(self.n_workers):
            self.start_worker(i)
        for i in range(self.n_webs):
            self.start_web(i)
        if self.with_nginx:
            conf = nginx_config(
                DEPLOY_CONF.read_text(),
                self.nginx_port,
                [self.web_port(i) for i in range(self.n_webs)],
                self.root / "nginx",
            )
            self.nginx = NginxServer(self.root / "nginx", conf, self.nginx_port).start()
        for i in range(self.n_webs):
            self.wait_web(i)
        wait_for(lambda: len(self.health(0).get("workers", [])) >= self.n_workers, timeout=120, every=0.2)

    def _log(self, name: str):
        f = open(self.root / f"{name}.log", "ab")  # noqa: SIM115
        self.logs.append(f)
        return f

    def _base_args(self) -> list[str]:
        s = self.settings
        assert s is not None
        return [
            sys.executable,
            "-c",
            _CLI,
            "--home",
            str(s.home),
            "--assets",
            str(s.assets),
            "--device",
            s.device,
        ]

    def start_web(self, i: int) -> subprocess.Popen:
        args = [
            *self._base_args(),
            "serve",
            "--no-worker",
            "--port",
            str(self.web_port(i)),
            "--threads",
            str(WEB_THREADS),
        ]
        log = self._log(f"web{i}")
        self.webs[i] = subprocess.Popen(args, env=self.env(), start_new_session=True, stdout=log, stderr=log)
        return self.webs[i]

    def wait_web(self, i: int, timeout: float = 120.0) -> None:
        proc = self.webs[i]
        wait_port(self.web_port(i), timeout=timeout, proc=proc)
        wait_for(lambda: self._ok(self.web_url(i, "/api/health")), timeout=timeout, every=0.2)

    @staticmethod
    def _ok(url: str) -> bool:
        try:
            return requests.get(url, timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def start_worker(self, i: int) -> subprocess.Popen:
        args = [*self._base_args(), "worker", "--workers", str(self.worker_processes), *self.worker_flags]
        log = self._log(f"worker{i}")
        self.workers[i] = subprocess.Popen(
            args, env=self.env(), start_new_session=True, stdout=log, stderr=log
        )
        return self.workers[i]

    def kill_worker(self, i: int) -> None:
        """SIGKILL the worker's whole process group: the machine is gone, nothing cleans up."""
        proc = self.workers[i]
        if proc is not None:
            stop_process(proc, signal.SIGKILL)
        self.workers[i] = None

    def kill_web(self, i: int) -> None:
        proc = self.webs[i]
        if proc is not None:
            stop_process(proc, signal.SIGKILL)
        self.webs[i] = None

    def worker_of_pid(self, pid: int) -> int | None:
        """Which of our workers runs the process ``pid`` (a job runs in a worker's process group)."""
        try:
            pgid = os.getpgid(pid)
        except ProcessLookupError:
            return None
        for i, proc in enumerate(self.workers):
            if proc is not None and proc.pid == pgid:
                return i
        return None

    def health(self, i: int) -> dict:
        try:
            r = requests.get(self.web_url(i, "/api/health"), timeout=5)
            return r.json() if r.status_code == 200 else {}
        except requests.RequestException:
            return {}

    def stop(self) -> None:
        for proc in [*self.webs, *self.workers]:
            if proc is not None:
                stop_process(proc, signal.SIGTERM, timeout=10)
        if self.nginx is not None:
            self.nginx.stop()
        self.redis.stop()
        self.pg.remove()
        for f in self.logs:
            f.close()
        self.logs.clear()

    def logs_text(self) -> str:
        out = []
        for path in sorted(self.root.glob("*.log")):
            out.append(f"==== {path.name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(out)


def wait_until(pred, timeout: float, every: float = 0.2, what: str = "condition"):
    return wait_for(pred, timeout, every, what)


class JobListener:
    """A python-socketio client subscribed to every job (``*``) that records each event with the
    time it arrived: ``events`` is a list of ``(name, data, received_at)``."""

    def __init__(self, base: str, *, transports: tuple[str, ...] = ("websocket",), reconnect: bool = False):
        import threading

        import socketio

        self.events: list[tuple[str, dict, float]] = []
        self.cond = threading.Condition()
        self.sio = socketio.Client(reconnection=reconnect, reconnection_delay=0.5, reconnection_delay_max=2)
        for name in ("job_progress", "job_done", "job_failed", "job_cancelled"):
            self.sio.on(name, self._record(name))
        self.sio.on("connect", lambda: self.sio.emit("subscribe", {"job_id": "*"}))
        self.sio.connect(base, transports=list(transports), wait_timeout=20)
        self.sio.call("subscribe", {"job_id": "*"}, timeout=20)

    def _record(self, name: str):
        def handler(data):
            with self.cond:
                self.events.append((name, data, time.time()))
                self.cond.notify_all()

        return handler

    def finals(self, job_id: str) -> list[str]:
        with self.cond:
            return [n for n, d, _ in self.events if d.get("job_id") == job_id and n != "job_progress"]

    def wait_final(self, job_id: str, timeout: float = 120.0) -> str:
        with self.cond:
            ok = self.cond.wait_for(lambda: self._final(job_id) is not None, timeout=timeout)
            assert ok, f"no final event for {job_id} within {timeout} s"
            return self._final(job_id)

    def _final(self, job_id: str) -> str | None:
        for n, d, _ in self.events:
            if d.get("job_id") == job_id and n != "job_progress":
                return n
        return None

    def progress_of(self, job_id: str) -> list[dict]:
        with self.cond:
            return [d for n, d, _ in self.events if n == "job_progress" and d.get("job_id") == job_id]

    def close(self) -> None:
        self.sio.disconnect()
