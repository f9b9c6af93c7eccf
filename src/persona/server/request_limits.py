"""What a request's path and JSON body may look like before any route sees them.

A path with control characters (``GET /%00``: a NUL would reach ``os.stat`` and raise) is
refused 400 ``path_invalid``; a path longer than ``MAX_PATH_CHARS`` (the file system refuses
long names with ENAMETOOLONG) 414 ``path_too_long``; both in the project's error shape, checked
by the front door (``persona.server.front_door``) before Flask or engine.io run. A JSON body
nested deeper than the decoder can follow (5,000 ``[``: ``RecursionError``, which Flask's
``get_json`` does not treat as bad JSON) is 400 ``json_too_deep`` (``BoundedJSONProvider``).
"""

from __future__ import annotations

import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

from persona.errors import PersonaError
from persona.settings import Settings

MAX_PATH_CHARS = 2048  # browsers and proxies keep URLs under 8 KiB; no route of ours needs more
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def largest_request(settings: Settings) -> int:
    """The largest request body any route allows (each route then checks its own per-file
    limits): a training's recordings (files x per-file limit) may be more than one upload."""
    largest = max(settings.max_upload_bytes, settings.max_training_files * settings.max_training_file_bytes)
    return largest + (1 << 20)  # + room for form fields


def path_problem(environ: dict) -> PersonaError | None:
    """The refusal for this request's path, or None when it is fine."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    path = environ.get("PATH_INFO", "") or ""
    length = max(len(path), len(raw.split("?", 1)[0]))
    if length > MAX_PATH_CHARS:
        return PersonaError(
            "path_too_long",
            f"the address is longer than {MAX_PATH_CHARS} characters",
            status=414,
            params={"max": MAX_PATH_CHARS},
        )
    if _CONTROL.search(path):
        return PersonaError("path_invalid", "the address contains control characters", status=400)
    return None


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with a body nested too deeply refused as bad input instead of a crash."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise PersonaError("json_too_deep", "the JSON body is nested too deeply", status=400) from None
