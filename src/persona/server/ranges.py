"""Range headers as RFC 7233 reads them, before werkzeug answers one (``send_file(conditional=True)``).

werkzeug answers 416 to two kinds of header the RFC says to serve: a header it cannot parse
(``bytes=abc``, another unit, ``bytes=9-3``), which a server must *ignore* (200, the whole file;
section 3.1), and a suffix range longer than the file (``bytes=-N``, N >= size), which means the
whole file (section 2.1: 206 with ``bytes 0-(size-1)/size``). It also answers 416 to any
request for several ranges, which it does not serve: a server may ignore a Range header (section
3.1), so a multi-range request with at least one satisfiable range gets the whole file (200), as
many servers do (multipart/byteranges is rarely used, and a player asks again). Only when no
range is satisfiable is it 416. ``normalize_range(environ, size)`` rewrites the request's header
accordingly; anything else is left to werkzeug (``bytes=N-`` with N >= size stays 416, as it must).
``send_ranged(path, mimetype)`` is how a route answers with a playable file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Response, request, send_file

_SPEC = re.compile(r"^(\d*)-(\d*)$")


def send_ranged(path: str | Path, mimetype: str, **kwargs: Any) -> Response:
    """``path`` inline, answering Range requests (206 with Content-Range, via werkzeug's
    ``conditional=True``) after ``normalize_range``; ``kwargs`` go to ``send_file``."""
    normalize_range(request.environ, Path(path).stat().st_size)
    resp = send_file(path, mimetype=mimetype, conditional=True, etag=True, **kwargs)
    resp.headers["Accept-Ranges"] = "bytes"
    return resp


def normalize_range(environ: dict, size: int) -> None:
    header = environ.get("HTTP_RANGE")
    if header is None:
        return
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not specs.strip():
        environ.pop("HTTP_RANGE", None)  # a unit we do not serve, or no range at all: ignore
        return
    parts = [p.strip() for p in specs.split(",")]
    parsed = [_SPEC.match(p) for p in parts]
    if any(m is None or (not m.group(1) and not m.group(2)) for m in parsed):
        environ.pop("HTTP_RANGE", None)  # syntactically invalid: ignore the whole header
        return
    for m in parsed:
        first, last = m.group(1), m.group(2)
        if first and last and int(last) < int(first):
            environ.pop("HTTP_RANGE", None)  # "bytes=9-3" is invalid, so the header is ignored
            return
    if len(parsed) > 1:
        if any(_satisfiable(m.group(1), m.group(2), size) for m in parsed):
            environ.pop("HTTP_RANGE", None)  # several ranges, one servable: the whole file (200)
        else:
            environ["HTTP_RANGE"] = f"bytes={size}-"  # none is: werkzeug's 416 with bytes */size
        return
    if len(parsed) == 1:
        first, last = parsed[0].group(1), parsed[0].group(2)
        if not first and int(last) >= size > 0:
            environ["HTTP_RANGE"] = "bytes=0-"  # a suffix longer than the file: all of it


def _satisfiable(first: str, last: str, size: int) -> bool:
    """RFC 7233 section 2.1: a range with a first byte inside the file, or a non-empty suffix."""
    if first:
        return int(first) < size
    return int(last) > 0 and size > 0
