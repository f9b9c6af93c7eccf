"""Socket.IO: ``subscribe``/``unsubscribe`` to a job; ``job_progress``/``job_done``/``job_failed``/``job_cancelled``.

Workers write progress to the job store; one broadcaster thread per web process reads the changes
(``seq > last``, one indexed query every 0.1 s) and emits them to the job's room, so an event
reaches subscribers well within a second of the worker's report. A subscriber gets the job's
current state at once (``job_progress``, and the final event if it has ended), so a late
subscriber misses nothing. A queued job's event carries ``queue: {position, wait_s}``, re-sent
whenever the queue moves.

Scale-out (Redis): Socket.IO's message queue is Redis, so one broadcaster serves every web
process. The web processes elect it with a Redis lock (``LEADER_TTL_S``, renewed each poll); the
leader keeps its last ``seq`` in Redis, so when it dies another takes over within a few seconds
from where it stopped: events arrive late, never lost, and every event is emitted once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import request
from flask_socketio import SocketIO, emit, join_room, leave_room

from persona.errors import PersonaError
from persona.jobs.public import final_event, progress_event
from persona.jobs.store import JobStore
from persona.jobs.waits import queue_info
from persona.server import ownership
from persona.server.auth import token_from, token_ok

log = logging.getLogger(__name__)
POLL_S = 0.1
ALL_JOBS = "*"
LEADER_TTL_S = 3.0
_LEADER_KEY = "persona:broadcaster:leader"
_SEQ_KEY = "persona:broadcaster:seq"


class Broadcaster:
    """Streams job-store changes to Socket.IO rooms (started lazily, once per process)."""

    def __init__(self, socketio: SocketIO, store: JobStore, redis_url: str | None = None) -> None:
        self.socketio, self.store = socketio, store
        self.redis_url = redis_url
        self._lock = threading.Lock()
        self._started_pid: int | None = None
        self.leading = False

    def ensure_started(self) -> None:
        import os

        with self._lock:
            if self._started_pid == os.getpid():
                return
            self._started_pid = os.getpid()
            self.socketio.start_background_task(self._run)

    def _run(self) -> None:
        if self.redis_url:
            self._run_elected()
            return
        seq = self.store.max_seq()
        while True:
            try:
                changed = self.store.changes_since(seq)
                for job in changed:
                    seq = max(seq, job["seq"])
                self.emit_changes(changed)
            except Exception:  # noqa: BLE001 - keep streaming through a locked database
                log.exception("job broadcaster")
            self.socketio.sleep(POLL_S)

    def emit_changes(self, changed: list[dict[str, Any]]) -> None:
        """Publish changed jobs; any change can move the queue, so every queued job hears its
        new place and wait too."""
        if not changed:
            return
        waits = queue_info(self.store)
        for job in changed:
            self.publish(job, waits.get(job["id"]))
        changed_ids = {j["id"] for j in changed}
        for job_id, place in waits.items():
            if job_id not in changed_ids:
                self.publish(self.store.get(job_id), place)

    def _run_elected(self) -> None:
        """Only the web process holding the leader lock polls the store and emits (via Redis)."""
        import os
        import socket

        from persona.jobs.cluster import redis_client

        me = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        ttl_ms = int(LEADER_TTL_S * 1000)
        seq: int | None = None
        failing = False
        while True:
            try:
                r = redis_client(self.redis_url)
                if self.leading:
                    self.leading = r.get(_LEADER_KEY) == me.encode() and bool(r.pexpire(_LEADER_KEY, ttl_ms))
                if not self.leading and r.set(_LEADER_KEY, me, nx=True, px=ttl_ms):
                    self.leading = True
                    stored = r.get(_SEQ_KEY)
                    seq = int(stored) if stored is not None else self.store.max_seq()
                    log.info("this web process now broadcasts job changes (from seq %s)", seq)
                if self.leading and seq is not None:
                    changed = self.store.changes_since(seq)
                    self.emit_changes(changed)
                    if changed:
                        seq = max(seq, *(job["seq"] for job in changed))
                        r.set(_SEQ_KEY, seq)
                failing = False
            except Exception as exc:  # noqa: BLE001 - Redis or the database away: try again
                if not failing:
                    log.warning("job broadcaster paused: %s", exc)
                failing = True
                self.socketio.sleep(1.0)
            self.socketio.sleep(POLL_S)

    def publish(self, job: dict[str, Any], queue: dict[str, Any] | None = None) -> None:
        payload = {**progress_event(job), "queue": queue}
        for room in (job["id"], all_jobs_room(job.get("owner") or "")):
            self.socketio.emit("job_progress", payload, to=room)
            final = final_event(job)
            if final:
                self.socketio.emit(final[0], final[1], to=room)


def all_jobs_room(owner: str) -> str:
    """The room of every job of one person (``*`` for the local owner); job ids are hex, so a
    person's room never meets a job's."""
    return ALL_JOBS + owner


def install(
    socketio: SocketIO,
    store: JobStore,
    token: str | None,
    redis_url: str | None = None,
    on_refused: Callable[[str, str], None] | None = None,
    allowed: Callable[[Any], bool] | None = None,
    on_allowed: Callable[[str, str, dict], None] | None = None,
) -> Broadcaster:
    """``on_refused(sid, namespace)``: close the transport of a refused connection (``guard``).
    ``allowed(auth)``: may this connection open (default: the token check); ``on_allowed(sid,
    namespace, environ)``: told when one did."""
    broadcaster = Broadcaster(socketio, store, redis_url)

    @socketio.on("connect")
    def on_connect(auth=None):
        ok = allowed(auth) if allowed else token_ok(token, token_from(request.headers, request.args, auth))
        if not ok:
            if on_refused is not None:
                on_refused(request.sid, request.namespace)
            raise ConnectionRefusedError("unauthorized")
        if on_allowed is not None:  # the front door stops counting it as unproven
            on_allowed(request.sid, request.namespace, request.environ)
        broadcaster.ensure_started()

    @socketio.on("subscribe")
    def on_subscribe(data=None):
        job_id = str((data or {}).get("job_id", "")) if isinstance(data, dict) else str(data or "")
        me = ownership.owner()
        if job_id == ALL_JOBS:
            join_room(all_jobs_room(me))
            return {"ok": True}
        try:
            ownership.owned_job(job_id, store, me)  # another person's job: the same answer as none
            join_room(job_id)  # then join: a change right after the read below still reaches us
            job = store.get(job_id)
        except PersonaError as exc:
            leave_room(job_id)
            return {"error": exc.to_dict()}
        queue = queue_info(store).get(job_id)  # None unless it is in line
        emit("job_progress", {**progress_event(job), "queue": queue})
        final = final_event(job)
        if final:
            emit(*final)
        return {"ok": True, "job": ownership.job_answer(job)}

    @socketio.on("unsubscribe")
    def on_unsubscribe(data=None):
        job_id = str((data or {}).get("job_id", "")) if isinstance(data, dict) else str(data or "")
        leave_room(all_jobs_room(ownership.owner()) if job_id == ALL_JOBS else job_id)
        return {"ok": True}

    return broadcaster
