"""Optional access token (``Settings.token`` / ``PERSONA_TOKEN``) for the API and Socket.IO.

Accepted as ``Authorization: Bearer <token>``, or as ``?token=`` (for ``<audio src>``, download
links and the Socket.IO handshake, where a browser cannot set headers), or in Socket.IO's ``auth``
payload ``{"token": ...}``. Compared in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any


def token_from(headers: Mapping[str, str], args: Mapping[str, str], auth: Any = None) -> str | None:
    header = headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    if isinstance(auth, Mapping) and auth.get("token"):
        return str(auth["token"])
    return args.get("token") or None


def token_ok(expected: str | None, given: str | None) -> bool:
    if not expected:
        return True
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())
