"""A live server on 127.0.0.1 (gunicorn + embedded worker processes, as `persona serve` runs it)
driven by HTTP and a real python-socketio client over WebSocket, with fixture jobs."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import requests
import socketio

from persona.testing.home import start_server, stop_process, wait_for

TOKEN = "live-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    log = open(root / "server.log", "w")  # noqa: SIM115
    proc, base = start_server(root, "--token", TOKEN, "--fixture-jobs", "--no-assets", log=log)

    def up():
        try:
            return requests.get(f"{base}/api/health", headers=auth(), timeout=2).status_code == 200
        except requests.ConnectionError:
            assert proc.poll() is None, (root / "server.log").read_text()
            return False

    wait_for(up, timeout=120, every=0.2)
    yield base, root
    stop_process(proc)
    log.close()


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


class Listener:
    """A python-socketio client that records every job event."""

    def __init__(self, base: str, token: str | None = TOKEN) -> None:
        self.events: list[tuple[str, dict]] = []
        self.cond = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        for name in ("job_progress", "job_done", "job_failed", "job_cancelled"):
            self.sio.on(name, self._record(name))
        # The token on the handshake (refused there without it) and in the auth payload.
        self.sio.connect(
            base,
            transports=["websocket"],
            headers={"Authorization": f"Bearer {token}"} if token else None,
            auth={"token": token} if token else None,
        )

    def _record(self, name):
        def handler(data):
            with self.cond:
                self.events.append((name, data))
                self.cond.notify_all()

        return handler

    def wait_event(self, name: str, job_id: str, timeout: float = 90.0) -> dict:
        with self.cond:
            ok = self.cond.wait_for(
                lambda: any(n == name and d["job_id"] == job_id for n, d in self.events), timeout=timeout
            )
        assert ok, (name, self.events)
        return next(d for n, d in self.events if n == name and d["job_id"] == job_id)

    def close(self) -> None:
        self.sio.disconnect()


def test_socket_needs_the_token(server):
    base, _ = server
    with pytest.raises(socketio.exceptions.ConnectionError):
        Listener(base, token=None)
    with pytest.raises(socketio.exceptions.ConnectionError):
        Listener(base, token="wrong")
    assert requests.get(f"{base}/api/models", timeout=5).status_code == 401
    # the query-parameter form, as the browser's socket.io client sends it
    sio = socketio.Client(reconnection=False)
    sio.connect(f"{base}?token={TOKEN}", transports=["websocket"])
    assert sio.connected
    sio.disconnect()


def test_training_progress_streams_and_late_subscriber_catches_up(server):
    base, root = server
    listener = Listener(base)
    with open(root / "voice1.wav", "rb") as f1, open(root / "voice2.wav", "rb") as f2:
        r = requests.post(
            f"{base}/api/trainings",
            headers=auth(),
            data={"name": "라이브", "epochs": "5"},
            files=[("files", ("a.wav", f1, "audio/wav")), ("files", ("b.wav", f2, "audio/wav"))],
            timeout=30,
        )
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    ack = listener.sio.call("subscribe", {"job_id": job_id}, timeout=10)
    assert ack["ok"] and ack["job"]["id"] == job_id
    done = listener.wait_event("job_done", job_id)
    assert done == {"job_id": job_id, "kind": "train", "result": {"model_name": "라이브", "epochs_done": 5}}
    progress = [d for n, d in listener.events if n == "job_progress" and d["job_id"] == job_id]
    fractions = [p["progress"] for p in progress if p["status"] == "running"]
    assert len(set(fractions)) >= 3 and fractions == sorted(fractions)
    assert {"stage", "eta_s", "metrics", "message", "kind"} <= set(progress[-1])
    listener.close()
    # a subscriber arriving after the end gets the state and the final event at once
    late = Listener(base)
    late.sio.call("subscribe", {"job_id": job_id}, timeout=10)
    assert late.wait_event("job_done", job_id, timeout=5)["result"]["model_name"] == "라이브"
    late.close()
    job = requests.get(f"{base}/api/jobs/{job_id}", headers=auth(), timeout=5).json()
    assert job["status"] == "succeeded" and job["progress"] == 1.0
    names = [m["name"] for m in requests.get(f"{base}/api/models", headers=auth(), timeout=5).json()]
    assert "라이브" in names


def test_cover_job_then_range_request_with_query_token(server):
    base, root = server
    listener = Listener(base)
    with open(root / "song.wav", "rb") as song:
        r = requests.post(
            f"{base}/api/covers",
            headers=auth(),
            data={"model": "데모 목소리", "pitch": "2"},
            files={"song": ("노래.wav", song, "audio/wav")},
            timeout=30,
        )
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    listener.sio.call("subscribe", {"job_id": job_id}, timeout=10)
    done = listener.wait_event("job_done", job_id)
    listener.close()
    result = done["result"]
    assert set(result) == {"cover_id", "filename", "audio_url", "download_url"}
    audio = requests.get(
        f"{base}{result['audio_url']}?token={TOKEN}", headers={"Range": "bytes=0-1023"}, timeout=10
    )
    assert audio.status_code == 206 and len(audio.content) == 1024 and audio.content[:4] == b"RIFF"
    cover = requests.get(f"{base}/api/covers/{result['cover_id']}", headers=auth(), timeout=5).json()
    assert cover["song_name"] == "노래.wav" and cover["pitch"] == 2


def test_cancel_a_running_training(server):
    base, root = server
    listener = Listener(base)
    with open(root / "voice1.wav", "rb") as f1:
        r = requests.post(
            f"{base}/api/trainings",
            headers=auth(),
            data={"name": "stop-me", "epochs": "200"},
            files=[("files", ("a.wav", f1, "audio/wav"))],
            timeout=30,
        )
    job_id = r.json()["job_id"]
    listener.sio.call("subscribe", {"job_id": job_id}, timeout=10)
    wait_for(
        lambda: any(
            n == "job_progress" and d["job_id"] == job_id and d["progress"] > 0 for n, d in listener.events
        )
    )
    assert requests.post(f"{base}/api/jobs/{job_id}/cancel", headers=auth(), timeout=5).status_code == 202
    cancelled = listener.wait_event("job_cancelled", job_id)
    listener.close()
    assert cancelled["result"]["model_name"] == "stop-me" and cancelled["result"]["saved"] is True
    assert requests.get(f"{base}/api/models/stop-me", headers=auth(), timeout=5).status_code == 200


def test_spa_and_openapi_over_http(server):
    base, _ = server
    page = requests.get(f"{base}/models/anything", timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    doc = requests.get(f"{base}/api/openapi.json", headers=auth(), timeout=5).json()
    assert "/api/jobs/{job_id}/cancel" in doc["paths"]


def test_server_log_has_no_tracebacks(server):
    _, root = server
    log = Path(root / "server.log").read_text()
    assert "Traceback" not in log, log[-3000:]


def test_server_restart_resumes_running_and_runs_queued_jobs(tmp_path):
    """`persona serve` killed outright mid-training; started again on the same home: the running
    training resumes (attempt 2), the job queued behind it runs, nothing half-written remains."""
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    flags = ("--fixture-jobs", "--no-assets")
    proc, base = start_server(tmp_path, *flags, log=log)
    try:
        wait_for(lambda: _health(base, proc), timeout=120, every=0.2)
        ids = []
        for name in ("first", "second"):  # one device: the second waits behind the first
            with open(tmp_path / "voice1.wav", "rb") as f1:
                r = requests.post(
                    f"{base}/api/trainings",
                    data={"name": name, "epochs": "12"},
                    files=[("files", ("a.wav", f1, "audio/wav"))],
                    timeout=30,
                )
            assert r.status_code == 202, r.text
            ids.append(r.json()["job_id"])
        wait_for(lambda: requests.get(f"{base}/api/jobs/{ids[0]}", timeout=5).json()["progress"] > 0.1)
    finally:
        stop_process(proc, signal.SIGKILL)  # the whole group: server and workers, no cleanup
    proc, base = start_server(tmp_path, *flags, port=int(base.rsplit(":", 1)[1]), log=log)
    try:
        wait_for(lambda: _health(base, proc), timeout=120, every=0.2)

        def finished(job_id):
            job = requests.get(f"{base}/api/jobs/{job_id}", timeout=5).json()
            return job if job["status"] in ("succeeded", "failed", "cancelled") else None

        first = wait_for(lambda: finished(ids[0]), timeout=120, every=0.2)
        second = wait_for(lambda: finished(ids[1]), timeout=120, every=0.2)
        assert first["status"] == "succeeded" and first["attempts"] == 2, first
        assert second["status"] == "succeeded", second
        names = {m["name"] for m in requests.get(f"{base}/api/models", timeout=5).json()}
        assert {"first", "second"} <= names
        leftovers = [p.name for p in (tmp_path / "home" / "models").iterdir() if p.name.startswith(".")]
        assert leftovers in ([], [".lock"])
    finally:
        stop_process(proc)
        log.close()


def _health(base: str, proc) -> bool:
    assert proc.poll() is None, "server exited"
    try:
        return requests.get(f"{base}/api/health", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def test_a_dead_worker_is_started_again(server):
    base, root = server
    beats = root / "home" / "jobs" / "workers"

    def live_pids() -> set[int]:
        out = set()
        for path in beats.glob("*.json"):
            info = json.loads(path.read_text())
            if time.time() - info["beat"] < 30:
                out.add(info["pid"])
        return out

    old = wait_for(live_pids)
    for pid in old:
        os.killpg(pid, signal.SIGKILL)  # the worker and its huey processes: a crash
    new = wait_for(lambda: live_pids() - old, timeout=120, every=0.2)
    assert new and not new & old
    with open(root / "voice1.wav", "rb") as f1:
        r = requests.post(
            f"{base}/api/trainings",
            headers=auth(),
            data={"name": "after-crash", "epochs": "2"},
            files=[("files", ("a.wav", f1, "audio/wav"))],
            timeout=30,
        )
    job_id = r.json()["job_id"]
    job = wait_for(
        lambda: (
            (j := requests.get(f"{base}/api/jobs/{job_id}", headers=auth(), timeout=5).json())["status"]
            in ("succeeded", "failed")
            and j
        ),
        every=0.2,
    )
    assert job["status"] == "succeeded", job
