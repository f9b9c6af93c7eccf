"""Optional access token (``Settings.token`` / ``PERSONA_TOKEN``) for the API and Socket.IO.

Accepted as ``Authorization: Bearer <token>``, in Socket.IO's ``auth`` payload ``{"token": ...}``,
as ``?token=`` (older clients; the page no longer puts it in URLs, which end up in logs), or, on
safe requests only, in the ``persona_token`` cookie the page sets (``SameSite=Strict``) so that
``<audio src>`` and the Socket.IO handshake carry it without a URL. Compared in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

TOKEN_COOKIE = "persona_token"  # set by the page (SameSite=Strict); read on safe requests only


def token_from(
    headers: Mapping[str, str],
    args: Mapping[str, str],
    auth: Any = None,
    cookies: Mapping[str, str] | None = None,
) -> str | None:
    """``cookies``: pass them only for safe requests (GET, HEAD, a Socket.IO handshake): a cookie
    rides along on requests the page did not make, so it must never authorise a change."""
    header = headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    if isinstance(auth, Mapping) and auth.get("token"):
        return str(auth["token"])
    return args.get("token") or (cookies or {}).get(TOKEN_COOKIE) or None


def token_ok(expected: str | None, given: str | None) -> bool:
    if not expected:
        return True
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())
