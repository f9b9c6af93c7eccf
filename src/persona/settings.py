"""The one settings object, built from flags and ``PERSONA_*`` environment variables.

No other module reads the environment: they receive a Settings (or the values they need).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _default_home() -> Path:
    return Path.home() / ".persona"


# The fields read from the environment, each from PERSONA_<NAME> (two have shorter names); a
# value is converted by the field's declared type (``Settings.typed``), so no type is written twice.
_ENV_NAMES = {"home": "PERSONA_HOME", "assets_dir": "PERSONA_ASSETS"}
_ENV_FIELDS = (
    "home", "assets_dir", "device", "token", "asset_base_url", "asset_pins", "redis_url", "database_url",
    "marking", "signing_cert", "signing_key", "secret_key", "signin_per_account", "signin_per_address",
    "consent", "bf16",
    "max_song_seconds", "max_upload_bytes", "cover_concurrency", "stems_cache_bytes",
    "max_training_total_seconds", "job_stale_s", "sockets_per_client", "socket_connect_s",
    "socket_idle_s", "header_timeout_s", "upload_min_bytes_per_s", "upload_grace_s",
    "allowed_hosts", "allowed_origins", "pending_per_client", "uploads_per_client", "uploads_at_once",
    "trusted_proxies", "min_free_mb",
    "quota_bytes", "quota_models", "quota_jobs", "jobs_need_assets",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Settings:
    home: Path = dataclasses.field(default_factory=_default_home)
    assets_dir: Path | None = None
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    # bf16 on the CPU for the parts that passed their bar (persona.precision): auto | on | off.
    bf16: str = "auto"
    token: str | None = None  # optional access token for the web API
    host: str = "127.0.0.1"
    port: int = 5000
    # Limits on untrusted input.
    max_upload_bytes: int = 200 * 1024 * 1024
    max_training_files: int = 5
    max_training_file_bytes: int = 100 * 1024 * 1024
    max_training_total_seconds: float = 60 * 60.0
    max_song_seconds: float = 20 * 60.0
    max_input_seconds: float = 60 * 60.0
    max_zip_members: int = 64
    max_zip_uncompressed_bytes: int = 2 * 1024 * 1024 * 1024
    # Free space an upload or a new job must leave on the data folder's disk (persona.disk).
    min_free_mb: int = 256
    # Job system.
    # Refuse a job whose pretrained weights this process cannot see (``assets_needed``). Off where
    # the workers keep their own weights folder, or run stand-in jobs that need none.
    jobs_need_assets: bool = True
    cover_concurrency: int = 1
    job_stale_s: float = 60.0  # a running job whose heartbeat is older is taken over by recovery
    stems_cache_bytes: int = 5 * 1024 * 1024 * 1024
    # Networking for assets (tests point this at a local server).
    asset_base_url: str | None = None
    # A JSON file of {asset name: [{path, size, sha256}]} replacing the manifest's files and pins
    # (a mirror serving other builds of the weights; tests serve tiny ones).
    asset_pins: str | None = None
    # Scale-out (README "Scaling out"): Redis carries the queue, Socket.IO's message queue and the
    # worker heartbeats; the job store is the SQLite file under jobs_dir unless a database URL is set.
    redis_url: str | None = None
    database_url: str | None = None
    # The front door (persona.server.front_door, gunicorn_worker): who may talk to the web process, and how slowly.
    allowed_hosts: tuple[str, ...] = ()  # Host names served besides IPs, localhost, our own; "*": any
    allowed_origins: tuple[str, ...] = ()  # other sites allowed to POST (no-token mode); "*": any
    sockets_per_client: int = 8  # live Socket.IO requests (WebSockets, long-polls) per address; 0: off
    socket_connect_s: float = 10.0  # an engine.io session must join a namespace within this
    socket_idle_s: float = 60.0  # longest wait for one read or write on a client connection
    header_timeout_s: float = 20.0  # a request's headers must be in within this
    upload_min_bytes_per_s: int = 16 * 1024  # a body slower than this (after the grace) is cut
    upload_grace_s: float = 30.0
    # Provenance (persona.provenance): every output is watermarked unless an operator sets
    # PERSONA_MARKING=off (logged at start and on every output); covers are signed with the
    # instance's own key (created in home/provenance) unless both of these point at another.
    marking: str = "on"  # on | off
    # The consent gate (persona.consent): "auto" asks for a live-read consent before a training
    # and a confirmation before a model import once accounts exist; "on" always, "off" never.
    consent: str = "auto"  # auto | on | off
    signing_cert: str | None = None  # PEM chain, leaf first
    signing_key: str | None = None  # PKCS#8 PEM
    # Accounts (persona.server.signin): the cookie-signing key every web process shares (default:
    # one made in the job database on first use), and sign-in throttling (failed attempts).
    secret_key: str | None = None
    signin_per_account: str = "10/minute;100/day"
    signin_per_address: str = "30/minute;300/day"
    # Slow clients (persona.server.intake, front_door): connections of one address still sending
    # their request, uploads per address, and bodies a thread reads as they come, in all.
    pending_per_client: int = 32
    uploads_per_client: int = 8
    uploads_at_once: int = 16
    # Reverse proxies whose X-Forwarded-For/-Proto are believed (persona.server.proxies): addresses
    # or networks; every per-address limit then counts the client's address, not the proxy's.
    trusted_proxies: tuple[str, ...] = ()
    # Per-person limits (accounts mode; an admin may set others per person, ``quotas`` table).
    # 0: no limit. The single local owner has none.
    quota_bytes: int = 20 * 1024 * 1024 * 1024
    quota_models: int = 50
    quota_jobs: int = 20  # queued + running jobs at once
    # Whose library these paths are: '' is the single local owner (today's layout under home);
    # a person's files live under ``home/people/<folder>`` (``persona.server.ownership`` sets it).
    owner: str = ""

    @property
    def assets(self) -> Path:
        return self.assets_dir if self.assets_dir is not None else self.home / "assets"

    @property
    def owner_root(self) -> Path:
        """The owner's folder: home itself for the local owner, else ``home/people/<folder>``."""
        return self.home if not self.owner else self.home / PEOPLE_DIR / owner_folder(self.owner)

    @property
    def models_dir(self) -> Path:
        return self.owner_root / "models"

    @property
    def covers_dir(self) -> Path:
        return self.owner_root / "covers"

    @property
    def training_dir(self) -> Path:
        """Training experiments (checkpoints, saves, previews), one folder per model name."""
        return self.owner_root / "training"

    @property
    def jobs_dir(self) -> Path:
        return self.home / "jobs"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    def resolved_device(self) -> str:
        """``auto`` becomes ``cuda`` when a GPU is present, else ``cpu``."""
        if self.device != "auto":
            return self.device
        try:
            import torch

            return "cuda" if torch.cuda.is_available() else "cpu"
        except ImportError:  # the server may run without torch loaded
            return "cpu"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @classmethod
    def typed(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` (text from the environment, JSON, flags) converted to each field's declared
        type: paths, numbers, tuples (a comma-separated string is split). Unknown names are refused."""
        hints = typing.get_type_hints(cls)
        out: dict[str, Any] = {}
        for key, value in values.items():
            if key not in hints:
                raise TypeError(f"Settings has no field {key!r}")
            out[key] = None if value is None else _convert(hints[key], value)
        return out

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Environment first, then explicit overrides (flags) win. ``None`` overrides are ignored."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name in _ENV_FIELDS:
            raw = env.get(_ENV_NAMES.get(name, f"PERSONA_{name.upper()}"))
            if raw:
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**cls.typed(values))


def _convert(hint: Any, value: Any) -> Any:
    """``value`` as type ``hint`` (``X | None`` is taken as ``X``)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if hint is Path:
        return Path(value).expanduser()
    if typing.get_origin(hint) is tuple:
        return _csv(value) if isinstance(value, str) else tuple(value)
    if hint is bool and isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    if hint in (bool, int, float, str):
        return hint(value)
    return value


PEOPLE_DIR = "people"
_SAFE_FOLDER = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def owner_folder(owner: str) -> str:
    """A folder name for an owner id: the id itself when it is plain lowercase ASCII, else a hash
    (safe on case-insensitive file systems, never a path)."""
    if _SAFE_FOLDER.match(owner):
        return owner
    return "h-" + hashlib.sha256(owner.encode("utf-8")).hexdigest()[:24]


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())
