"""Errors as JSON: ``{"error": {"code", "message", "params"}}`` with a 4xx status (5xx only for bugs)."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from persona.errors import PersonaError

log = logging.getLogger(__name__)


def error_response(code: str, message: str, status: int, params: dict | None = None):
    resp = jsonify({"error": {"code": code, "message": message, "params": params or {}}})
    resp.status_code = status
    return resp


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

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(code, exc.description or exc.name, exc.code or 500)

    @app.errorhandler(Exception)
    def crash(exc: Exception):
        log.exception("unhandled error")
        return error_response("internal_error", "the server hit an unexpected error (see its log)", 500)
