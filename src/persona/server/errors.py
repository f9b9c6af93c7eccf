"""Errors as JSON: ``{"error": {"code", "message", "params"}}`` with a 4xx status (5xx only for bugs,
a lost backend (503) and a full disk: ``disk_full``, 507, wherever ENOSPC or a full database shows)."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import (
    ClientDisconnected,
    HTTPException,
    RequestedRangeNotSatisfiable,
    RequestEntityTooLarge,
)

from persona.disk import as_disk_full
from persona.errors import PersonaError

log = logging.getLogger(__name__)


def error_response(code: str, message: str, status: int, params: dict | None = None):
    resp = jsonify({"error": {"code": code, "message": message, "params": params or {}}})
    resp.status_code = status
    return resp


def backend_unavailable(exc: BaseException) -> PersonaError | None:
    """A lost job database or Redis as a 503 error (scale-out); None for anything else."""
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, (OperationalError, PoolTimeout)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return PersonaError(
            "database_unavailable", "the job database is not answering; try again shortly", 503
        )
    try:
        import redis
    except ImportError:  # pragma: no cover - redis is a dependency
        return None
    if isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
        return PersonaError(
            "queue_unavailable", "the job queue (Redis) is not answering; try again shortly", 503
        )
    return None


def install(app: Flask) -> None:
    @app.errorhandler(PersonaError)
    def persona_error(exc: PersonaError):
        status = exc.status if 400 <= exc.status < 600 else 400
        return error_response(exc.code, exc.message, status, exc.params)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc):
        limit = app.config.get("MAX_CONTENT_LENGTH") or 0
        mib = limit // (1 << 20)
        return error_response(
            "upload_too_large", f"the upload is larger than {mib} MiB", 413, {"max_mb": mib}
        )

    @app.errorhandler(ClientDisconnected)
    def disconnected(exc: ClientDisconnected):
        from persona.server.deadlines import RequestTooSlow

        if isinstance(exc.__cause__ or exc.__context__, RequestTooSlow):
            return error_response("request_too_slow", "the upload arrived too slowly", 408)
        return error_response("client_disconnected", "the upload ended before it was complete", 400)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        resp = error_response(code, exc.description or exc.name, exc.code or 500)
        if isinstance(exc, RequestedRangeNotSatisfiable) and exc.length is not None:
            resp.headers["Content-Range"] = f"{exc.units} */{exc.length}"  # RFC 7233 section 4.4
        return resp

    @app.errorhandler(Exception)
    def crash(exc: Exception):
        full = as_disk_full(exc)
        if full is not None:  # ENOSPC from a write, or the database's disk: said plainly
            log.warning("disk full: %s", exc)
            return error_response(full.code, full.message, full.status, full.params)
        away = backend_unavailable(exc)
        if away is not None:  # PostgreSQL or Redis is down: the client may retry; nothing was lost
            log.warning("%s: %s", away.code, away.message)
            return error_response(away.code, away.message, 503)
        log.exception("unhandled error")
        return error_response("internal_error", "the server hit an unexpected error (see its log)", 500)
