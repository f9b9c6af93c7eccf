"""``GET /api/me/export``: all of my data as one zip; ``POST /api/me/import``: such a zip, from
this or another Persona, added to my library (``persona.library.export``)."""

from __future__ import annotations

import os
import tempfile

from flask import Blueprint, jsonify, request, send_file

from persona.errors import PersonaError
from persona.jobs.public import public_job
from persona.jobs.store import TERMINAL
from persona.library.export import count_models, export_person, import_person
from persona.server import ownership
from persona.server.services import services
from persona.server.validation import save_upload

bp = Blueprint("export", __name__)


@bp.get("/api/me/export")
def export_mine():
    svc = services()
    mine = ownership.owner_settings()
    jobs = svc.queue.store.list(status=list(TERMINAL), owner=ownership.owner(), limit=100_000)
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".zip", dir=svc.settings.jobs_dir)
    os.close(fd)
    try:
        export_person(mine, tmp, jobs=[public_job(j) for j in jobs])
        handle = open(tmp, "rb")  # noqa: SIM115 - closed by the response
    finally:
        os.unlink(tmp)  # an open handle keeps the data until the response is sent
    resp = send_file(
        handle, mimetype="application/zip", as_attachment=True, download_name="persona-export.zip"
    )
    resp.call_on_close(handle.close)
    return resp


@bp.post("/api/me/import")
def import_mine():
    svc = services()
    ownership.check_quota(add_bytes=request.content_length or 0)  # before the body is kept
    upload = request.files.get("file")
    if upload is None or not (upload.filename or "").strip():
        raise PersonaError("file_missing", "upload the export as a .zip in the 'file' field")
    staging = svc.staging()
    try:
        path = staging / "export.zip"
        save_upload(upload, path, max_bytes=svc.settings.max_upload_bytes, what="the export zip")
        ownership.check_quota(add_models=count_models(path))
        added = import_person(ownership.owner_settings(), path)
    finally:
        svc.discard(staging)
    return jsonify(added), 201
