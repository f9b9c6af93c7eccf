"""``/api/models``: list, get, upload a zip, merge two, download as a zip, delete."""

from __future__ import annotations

import os
import tempfile

from flask import Blueprint, jsonify, request, send_file

from persona.consent import record as consent_record
from persona.errors import PersonaError
from persona.server import ownership
from persona.server.consent_gate import take_import_confirmation
from persona.server.services import services
from persona.server.validation import save_upload

bp = Blueprint("models", __name__)


@bp.get("/api/models")
def list_models():
    return jsonify([e.to_dict() for e in ownership.models().list()])


@bp.get("/api/models/<name>")
def get_model(name: str):
    return jsonify(ownership.owned_model(name).to_dict())


@bp.post("/api/models/upload")
def upload_model():
    svc = services()
    ownership.check_quota(add_bytes=request.content_length or 0, add_models=1)  # before the body is read
    upload = request.files.get("file")
    if upload is None or not (upload.filename or "").strip():
        raise PersonaError("file_missing", "upload the model as a .zip in the 'file' field")
    if not upload.filename.lower().endswith(".zip"):
        raise PersonaError("file_type", "the model must be uploaded as a .zip")
    library = ownership.models()
    name = request.form.get("name") or None
    if name is not None:
        library.check_new_name(name)  # fail before reading a large body to disk
    rights = take_import_confirmation(svc.settings, request.form)  # someone's voice: may they use it?
    staging = svc.staging()
    try:
        path = staging / "upload.zip"
        save_upload(upload, path, max_bytes=svc.settings.max_upload_bytes, what="the model zip")
        entry = library.import_zip(path, name=name)
    finally:
        svc.discard(staging)
    if rights is not None:
        consent_record.write(entry.pth_path.parent, rights)
    return jsonify(entry.to_dict()), 201


@bp.post("/api/models/merge")
def merge_two_models():
    """Blend two library models into a new one: JSON or form ``{a, b, weight, name}`` -> 201 model."""
    from persona.library.merge import WEIGHT, check_weight, merge_models

    body = request.get_json(silent=True) if request.is_json else request.form
    if not isinstance(body, dict) and not hasattr(body, "get"):
        raise PersonaError("param_invalid", "send {a, b, weight, name}")
    a, b, name = (str(body.get(k) or "").strip() for k in ("a", "b", "name"))
    if not a or not b or not name:
        raise PersonaError("param_invalid", "'a', 'b' and 'name' are required")
    weight = check_weight(body.get("weight", WEIGHT.default))
    library = ownership.models()
    ownership.check_quota(add_bytes=library.get(a).metadata.get("size_bytes") or 1, add_models=1)
    entry = merge_models(library, a, b, weight, name)
    return jsonify(entry.to_dict()), 201


@bp.get("/api/models/<name>/download")
def download_model(name: str):
    svc = services()
    library = ownership.models()
    entry = library.get(name)
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".zip", dir=svc.settings.jobs_dir)
    os.close(fd)
    library.export_zip(entry.name, tmp)
    handle = open(tmp, "rb")  # noqa: SIM115 - closed by the response
    os.unlink(tmp)  # the open handle keeps the data until the response is sent
    resp = send_file(
        handle, mimetype="application/zip", as_attachment=True, download_name=f"{entry.name}.zip"
    )
    resp.call_on_close(handle.close)
    return resp


@bp.delete("/api/models/<name>")
def delete_model(name: str):
    ownership.models().delete(name)
    return "", 204
