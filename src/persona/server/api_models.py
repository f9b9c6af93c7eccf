"""``/api/models``: list, get, upload a zip, merge two, download as a zip, delete."""

from __future__ import annotations

import os
import tempfile

from flask import Blueprint, jsonify, request, send_file

from persona.consent import record as consent_record
from persona.errors import PersonaError
from persona.server.consent_gate import take_import_confirmation
from persona.server.services import services
from persona.server.validation import save_upload

bp = Blueprint("models", __name__)


@bp.get("/api/models")
def list_models():
    return jsonify([e.to_dict() for e in services().models.list()])


@bp.get("/api/models/<name>")
def get_model(name: str):
    return jsonify(services().models.get(name).to_dict())


@bp.post("/api/models/upload")
def upload_model():
    svc = services()
    upload = request.files.get("file")
    if upload is None or not (upload.filename or "").strip():
        raise PersonaError("file_missing", "upload the model as a .zip in the 'file' field")
    if not upload.filename.lower().endswith(".zip"):
        raise PersonaError("file_type", "the model must be uploaded as a .zip")
    name = request.form.get("name") or None
    if name is not None:
        svc.models.check_new_name(name)  # fail before reading a large body to disk
    rights = take_import_confirmation(svc.settings, request.form)  # someone's voice: may they use it?
    staging = svc.staging()
    try:
        path = staging / "upload.zip"
        save_upload(upload, path, max_bytes=svc.settings.max_upload_bytes, what="the model zip")
        entry = svc.models.import_zip(path, name=name)
    finally:
        svc.discard(staging)
    if rights is not None:
        consent_record.write(entry.pth_path.parent, rights)
    return jsonify(entry.to_dict()), 201


@bp.post("/api/models/merge")
def merge_two_models():
    """Blend two library models into a new one: JSON or form ``{a, b, weight, name}`` -> 201 model."""
    from persona.library.merge import WEIGHT, check_weight, merge_models

    svc = services()
    body = request.get_json(silent=True) if request.is_json else request.form
    if not isinstance(body, dict) and not hasattr(body, "get"):
        raise PersonaError("param_invalid", "send {a, b, weight, name}")
    a, b, name = (str(body.get(k) or "").strip() for k in ("a", "b", "name"))
    if not a or not b or not name:
        raise PersonaError("param_invalid", "'a', 'b' and 'name' are required")
    weight = check_weight(body.get("weight", WEIGHT.default))
    entry = merge_models(svc.models, a, b, weight, name)
    return jsonify(entry.to_dict()), 201


@bp.get("/api/models/<name>/download")
def download_model(name: str):
    svc = services()
    entry = svc.models.get(name)
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".zip", dir=svc.settings.jobs_dir)
    os.close(fd)
    svc.models.export_zip(entry.name, tmp)
    handle = open(tmp, "rb")  # noqa: SIM115 - closed by the response
    os.unlink(tmp)  # the open handle keeps the data until the response is sent
    resp = send_file(
        handle, mimetype="application/zip", as_attachment=True, download_name=f"{entry.name}.zip"
    )
    resp.call_on_close(handle.close)
    return resp


@bp.delete("/api/models/<name>")
def delete_model(name: str):
    services().models.delete(name)
    return "", 204
