"""Client addresses behind a reverse proxy: ``X-Forwarded-For`` only from trusted proxies.

Behind ``deploy/nginx/persona.conf`` every connection comes from nginx, so every per-address
limit (live sockets, connections still sending, uploads at once) would count all browsers as one.
``Settings.trusted_proxies`` (``PERSONA_TRUSTED_PROXIES``: comma-separated addresses or networks,
e.g. ``127.0.0.1,10.0.0.0/8``) names the proxies whose ``X-Forwarded-For`` and
``X-Forwarded-Proto`` are believed; from anyone else those headers are ignored (a client could
otherwise pick any address it likes). Werkzeug's ``ProxyFix`` does the rewriting (``REMOTE_ADDR``
becomes the client's, the proxy's stays in ``werkzeug.proxy_fix.orig``); here it only runs for a
trusted peer, with as many hops as the chain has trusted proxies in a row (nginx's
``real_ip_recursive``), so a client's own ``X-Forwarded-For`` entries are never taken.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from functools import lru_cache

from werkzeug.middleware.proxy_fix import ProxyFix

from persona.errors import PersonaError

MAX_HOPS = 8
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The configured proxy networks; ``trusts(address)`` for one peer address."""

    def __init__(self, entries: Iterable[str]) -> None:
        networks = []
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise PersonaError(
                    "trusted_proxies_invalid",
                    f"PERSONA_TRUSTED_PROXIES: {entry[:100]!r} is not an address or network",
                    params={"entry": entry[:100]},
                ) from None
        self.networks: tuple[Network, ...] = tuple(networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: str | None) -> bool:
        if not self.networks or not address:
            return False
        try:
            ip = ipaddress.ip_address(address.strip().strip("[]"))
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in net for net in self.networks)

    def hops(self, peer: str | None, forwarded_for: str | None) -> int:
        """How many ``X-Forwarded-For`` entries (from the right) to walk: 0 when ``peer`` is not
        trusted; else 1 plus one for each further entry that is itself a trusted proxy."""
        if not self.trusts(peer) or not forwarded_for:
            return 0
        chain = [a.strip() for a in forwarded_for.split(",") if a.strip()]
        n = 1
        while n < min(len(chain), MAX_HOPS) and self.trusts(chain[-n]):
            n += 1
        return min(n, len(chain))


class ForwardedFor:
    """WSGI middleware: ProxyFix for requests whose peer is a trusted proxy, nothing otherwise."""

    def __init__(self, app: Callable, proxies: TrustedProxies) -> None:
        self.app, self.proxies = app, proxies

        @lru_cache(maxsize=MAX_HOPS)
        def fixer(hops: int) -> ProxyFix:
            return ProxyFix(app, x_for=hops, x_proto=1)

        self._fixer = fixer

    def __call__(self, environ: dict, start_response):
        hops = self.proxies.hops(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"))
        if hops:
            return self._fixer(hops)(environ, start_response)
        return self.app(environ, start_response)
