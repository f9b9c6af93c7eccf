"""Real Redis, PostgreSQL and nginx for the scale-out tests and benchmark, started on 127.0.0.1 in
temporary folders from the Debian packages (``redis-server``, ``postgresql``, ``nginx``).

``find_binary(name)`` finds a server (PostgreSQL's live under ``/usr/lib/postgresql/*/bin``);
``require(name)`` is what a test calls: a missing binary skips the test on a developer's machine
but fails it in CI (``CI`` set, as ``.ci/run`` does), where ``.ci/run`` installs the packages.
PostgreSQL refuses to run as root: as root, its data folder belongs to the ``postgres`` user (or
``nobody``) and the server runs through ``runuser``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_binary(name: str) -> str | None:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def require(name: str) -> str:
    """The binary's path; pytest skip when missing outside CI, failure in CI."""
    import pytest

    path = find_binary(name)
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed; .ci/run installs it (apt-get)")
    pytest.skip(f"{name} is not installed (apt-get install redis-server postgresql nginx)")
    raise AssertionError  # unreachable


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def _stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


class RedisServer:
    """``redis-server`` with append-only persistence in ``folder`` (so a restart keeps the queue)."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = Path(folder), port
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        args = [
            require("redis-server"),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.folder),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--protected-mode", "no",
            "--logfile", str(self.folder / "redis.log"),
        ]  # fmt: skip
        self.proc = subprocess.Popen(args, start_new_session=True, stdout=subprocess.DEVNULL)
        wait_port(self.port, proc=self.proc)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        _stop(self.proc, sig)


class PostgresServer:
    """A throwaway cluster (``initdb``, trust auth on 127.0.0.1) with one database ``persona``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="persona-pg-"))  # not under pytest's 0700 folder
        self.data = self.root / "data"
        self.proc: subprocess.Popen | None = None
        self._user: str | None = None

    @property
    def url(self) -> str:
        return f"postgresql://persona@127.0.0.1:{self.port}/persona"

    def _as_owner(self, args: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return args
        return ["runuser", "-u", self._user, "--", *args]

    def start(self) -> PostgresServer:
        initdb = require("initdb")
        if os.geteuid() == 0:
            users = [n for n in ("postgres", "nobody") if _user_exists(n)]
            if not users:
                raise RuntimeError("running as root needs a 'postgres' or 'nobody' user for PostgreSQL")
            self._user = users[0]
            pw = pwd.getpwnam(self._user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        subprocess.run(
            self._as_owner(
                [initdb, "-D", str(self.data), "-U", "persona", "--auth=trust", "-E", "UTF8", "--no-sync"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.root,
        )
        self.start_again()
        self._createdb()
        return self

    def _createdb(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            out = subprocess.run(
                self._as_owner(
                    [require("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "persona", "persona"]
                ),
                capture_output=True,
                text=True,
                cwd=self.root,
            )
            if out.returncode == 0 or "already exists" in out.stderr:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"createdb failed: {out.stderr}")
            time.sleep(0.2)

    def start_again(self) -> None:
        """Start the server on the existing data folder (after ``stop``)."""
        args = [
            require("postgres"), "-D", str(self.data), "-p", str(self.port), "-h", "127.0.0.1",
            "-k", str(self.root), "-c", "fsync=off", "-c", "max_connections=200",
            "-c", "shared_buffers=32MB",
        ]  # fmt: skip
        with open(self.root / "postgres.log", "ab") as log:
            self.proc = subprocess.Popen(
                self._as_owner(args),
                start_new_session=True,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
            )
        wait_port(self.port, proc=self.proc)

    def stop(self, sig: int = signal.SIGINT) -> None:  # SIGINT: PostgreSQL's fast shutdown
        _stop(self.proc, sig, timeout=30)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def nginx_config(template: str, listen: int, backends: list[int], prefix: Path) -> str:
    """The shipped ``deploy/nginx/persona.conf`` (an ``http``-level file) made runnable: its
    backends and port replaced, wrapped in a main config whose paths all live in ``prefix``."""
    body = template.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    body = body.replace("/var/log/nginx/", f"{prefix}/")
    for i, port in enumerate(backends, start=1):
        body = body.replace(f"127.0.0.1:500{i};", f"127.0.0.1:{port};")
    temp = prefix / "temp"
    temp.mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # as root (CI): workers may read the prefix
    return (
        f"{user}worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\n"
        "daemon off;\nevents { worker_connections 512; }\n"
        "http {\n"
        f"  access_log {prefix}/access.log;\n"
        f"  client_body_temp_path {temp}/body;\n  proxy_temp_path {temp}/proxy;\n"
        f"  fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n  scgi_temp_path {temp}/scgi;\n"
        f"{body}\n}}\n"
    )


class NginxServer:
    def __init__(self, folder: Path, config: str, port: int) -> None:
        self.folder, self.port = Path(folder), port
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o755)
        self.conf = self.folder / "nginx.conf"
        self.conf.write_text(config)
        self.proc: subprocess.Popen | None = None

    def check(self) -> subprocess.CompletedProcess:
        return subprocess.run(
            [require("nginx"), "-t", "-p", str(self.folder), "-c", str(self.conf)],
            capture_output=True,
            text=True,
        )

    def start(self) -> NginxServer:
        self.proc = subprocess.Popen(
            [require("nginx"), "-p", str(self.folder), "-c", str(self.conf)],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "stderr.log", "ab"),  # noqa: SIM115
        )
        wait_port(self.port, proc=self.proc)
        return self

    def stop(self) -> None:
        _stop(self.proc, signal.SIGQUIT)
