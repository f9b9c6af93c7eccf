"""Serve the built React app (``web/dist``) at ``/``, with deep links falling back to ``index.html``."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

import persona

_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Persona</title>
<p>Persona's API is running, but the web app has not been built. Run <code>make web</code>
(or <code>cd web && npm ci && npm run build</code>) and restart. API: <a href="/api/openapi.json">/api/openapi.json</a>.</p>"""


def find_web_dist() -> Path | None:
    """The packaged copy (``persona/server/static``) or the checkout's ``web/dist``."""
    here = Path(persona.__file__).resolve().parent
    for candidate in (here / "server" / "static", here.parents[1] / "web" / "dist"):
        if (candidate / "index.html").is_file():
            return candidate
    return None


def blueprint(web_dist: Path | None) -> Blueprint:
    bp = Blueprint("spa", __name__)

    @bp.get("/")
    @bp.get("/<path:path>")
    def spa(path: str = ""):
        if path.startswith(("api/", "socket.io")) or path in ("api", "socket.io"):
            abort(404)
        if web_dist is None:
            return _NOT_BUILT, 200, {"Content-Type": "text/html; charset=utf-8"}
        try:  # a name the file system refuses (too long for it, say) is simply not one of ours
            target = (web_dist / path).resolve() if path else None
            found = target is not None and target.is_file() and web_dist.resolve() in target.parents
        except (OSError, ValueError):
            found = False
        if found:
            resp = send_from_directory(web_dist, path)
            if path.startswith("assets/"):  # Vite's content-hashed files
                resp.cache_control.max_age = 31536000
                resp.cache_control.immutable = True
            return resp
        if path and "." in path.rsplit("/", 1)[-1]:
            abort(404)  # a missing file, not a page
        resp = send_from_directory(web_dist, "index.html")
        resp.cache_control.no_cache = True
        return resp

    return bp
