"""What the workers of a scale-out cluster tell each other through Redis (``PERSONA_REDIS_URL``).

* ``persona:worker:<host>:<pid>``: each ``persona worker`` advertises itself (device class
  ``cpu``/``cuda``, device name, memory, the queue it serves, its processes) with a TTL of
  ``WORKER_TTL_S``, renewed every few seconds; ``live_workers`` is what ``/api/health`` lists, from
  any web process.
* ``persona:alive:<job id>``: the process running a job renews this key (TTL ``JOB_TTL_S``) with
  every heartbeat. A ``running`` job without it belongs to a dead worker (kill -9, a lost machine):
  recovery re-queues or fails it within ``JOB_TTL_S`` + one recovery period.
* Queues per device class: GPU-heavy kinds go to the ``cuda`` queue when a GPU worker is live,
  light kinds to the ``cpu`` queue when a CPU worker is live; otherwise whichever class is live
  (a CPU-only cluster runs everything on CPUs; a GPU-only one runs quick jobs on its GPUs).

Without Redis none of this exists: the embedded worker's heartbeat file serves ``/api/health``.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from typing import Any

from persona.errors import PersonaError
from persona.settings import Settings

WORKER_TTL_S = 15
JOB_TTL_S = 20
DEVICE_CLASSES = ("cuda", "cpu")
_PREFIX = "persona:"

_clients: dict[tuple[str, int], Any] = {}
_lock = threading.Lock()


def redis_client(url: str):
    """This process' Redis client for ``url`` (short timeouts: a dead Redis answers fast)."""
    import redis

    key = (url, os.getpid())
    with _lock:
        client = _clients.get(key)
        if client is None:
            try:
                client = redis.Redis.from_url(
                    url,
                    socket_connect_timeout=3,
                    socket_timeout=5,
                    health_check_interval=15,
                    retry_on_timeout=False,
                )
            except ValueError as exc:
                raise PersonaError(
                    "redis_url_invalid", f"PERSONA_REDIS_URL is not a Redis URL: {exc}"
                ) from None
            _clients[key] = client
        return client


def safe_redis_url(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<malformed>"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def check_redis(url: str) -> None:
    """At start: a malformed or unreachable Redis is one clear ``PersonaError``."""
    import redis

    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise PersonaError(
            "redis_url_invalid", "PERSONA_REDIS_URL must be redis://HOST:PORT/DB (or rediss://, unix://)"
        )
    try:
        redis_client(url).ping()
    except redis.RedisError as exc:
        raise PersonaError(
            "redis_unavailable", f"cannot reach Redis at {safe_redis_url(url)}: {exc}", status=503
        ) from None


def device_class(device: str) -> str:
    return "cuda" if device.startswith("cuda") else "cpu"


def describe_device(settings: Settings) -> dict[str, Any]:
    """This worker's device: class, name, memory (host RAM; GPU memory on CUDA)."""
    device = settings.resolved_device()
    info: dict[str, Any] = {"device": device_class(device), "device_name": device}
    try:
        info["memory_bytes"] = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        info["memory_bytes"] = None
    if info["device"] == "cuda":
        try:
            import torch

            index = int(device.split(":")[1]) if ":" in device else 0
            props = torch.cuda.get_device_properties(index)
            info.update(device_name=props.name, gpu_memory_bytes=int(props.total_memory))
        except Exception:  # noqa: BLE001 - advertise what we know
            info["gpu_memory_bytes"] = None
    return info


class WorkerRegistry:
    """Advertise this worker; read the live ones (any process with the Redis URL)."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def redis(self):
        return redis_client(self.url)

    @staticmethod
    def worker_id(host: str | None = None, pid: int | None = None) -> str:
        return f"{host or socket.gethostname()}:{pid or os.getpid()}"

    def advertise(self, info: dict[str, Any]) -> None:
        wid = info["id"]
        self.redis.set(f"{_PREFIX}worker:{wid}", json.dumps({**info, "beat": time.time()}), ex=WORKER_TTL_S)

    def withdraw(self, worker_id: str) -> None:
        self.redis.delete(f"{_PREFIX}worker:{worker_id}")

    def live(self) -> list[dict[str, Any]]:
        keys = sorted(self.redis.scan_iter(match=f"{_PREFIX}worker:*", count=500))
        if not keys:
            return []
        out = []
        for raw in self.redis.mget(keys):
            if raw:
                try:
                    out.append(json.loads(raw))
                except ValueError:
                    continue
        return out

    def classes(self) -> set[str]:
        return {w.get("queue") or w.get("device", "cpu") for w in self.live()}

    # ---- per-job liveness ------------------------------------------------------------------
    def job_alive(self, job_id: str, worker_id: str) -> None:
        self.redis.set(f"{_PREFIX}alive:{job_id}", worker_id, ex=JOB_TTL_S)

    def job_gone(self, job_id: str) -> None:
        self.redis.delete(f"{_PREFIX}alive:{job_id}")

    def alive_jobs(self, job_ids: list[str]) -> set[str]:
        if not job_ids:
            return set()
        values = self.redis.mget([f"{_PREFIX}alive:{j}" for j in job_ids])
        return {j for j, v in zip(job_ids, values, strict=True) if v}


def route(kind_is_heavy: bool, live_classes: set[str]) -> str:
    """The device-class queue for a job: see the module docstring."""
    preferred = "cuda" if kind_is_heavy else "cpu"
    if preferred in live_classes or not live_classes:
        return preferred
    return next(c for c in DEVICE_CLASSES if c in live_classes)
