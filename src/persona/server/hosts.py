"""Which ``Host`` and ``Origin`` values this server answers in no-token mode (DNS rebinding and
cross-site requests; the front door, ``persona.server.front_door``, refuses the rest).

Allowed: IP literals, ``localhost``, the served and the machine's own names, and
``Settings.allowed_hosts`` / ``allowed_origins`` (``PERSONA_ALLOWED_HOSTS`` /
``PERSONA_ALLOWED_ORIGINS``, comma-separated, ``*`` for any).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from persona.settings import Settings


def hostname(host: str) -> str:
    """``Host`` header (or URL netloc) -> lower-case name without port or IPv6 brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostPolicy:
    """Which ``Host`` and ``Origin`` values this server answers in no-token mode."""

    def __init__(self, settings: Settings) -> None:
        extra = {h.strip().lower() for h in settings.allowed_hosts if h.strip()}
        self.any_host = "*" in extra
        names = {"localhost", hostname(settings.host)}
        try:
            names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        except OSError:
            pass
        self.names = {n for n in names | {hostname(h) for h in extra} if n}
        origins = {o.strip().rstrip("/").lower() for o in settings.allowed_origins if o.strip()}
        self.any_origin = "*" in origins
        self.origins = origins

    def host_ok(self, host: str | None) -> bool:
        if self.any_host:
            return True
        name = hostname(host or "")
        # An IP literal cannot be rebound: the browser's origin is that address itself.
        return bool(name) and (_is_ip(name) or name in self.names or name.endswith(".localhost"))

    def origin_ok(self, origin: str | None, host: str | None) -> bool:
        """No Origin (not a browser, or a same-origin GET) is fine; else it must be this server."""
        if origin is None or self.any_origin:
            return True
        origin = origin.strip().rstrip("/").lower()
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False  # "null" (sandboxed frames, file: pages) and the like
        return bool(host) and parts.netloc == host.strip().lower() and self.host_ok(host)
