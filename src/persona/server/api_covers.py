"""``/api/covers``: create (queues a cover job), list, get, stream with Range, the original song, download, delete."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, send_file

from persona.errors import PersonaError
from persona.jobs.public import public_job
from persona.server import ownership
from persona.server.job_uploads import queue_upload_job, song_rule
from persona.server.ranges import send_ranged
from persona.server.services import services
from persona.server.validation import check_cover_request, cover_form

bp = Blueprint("covers", __name__)


@bp.post("/api/covers")
def create_cover():
    svc = services()
    model_name = request.form.get("model")
    if not model_name:
        raise PersonaError("param_invalid", "'model' is required")
    library = ownership.models()
    model = library.get(model_name)
    params = cover_form(request.form)
    job = queue_upload_job(
        "cover",
        song_rule(svc.settings),
        params,
        check=lambda paths: check_cover_request({**params, "model": model.name}, paths[0]),
        describe=lambda saved: {
            "model": model.name,
            "song_name": saved[0]["name"],
            "_song": saved[0]["file"],
            "duration_s": saved[0]["duration_s"],
        },
        hold=library.using(model.name),  # a DELETE of the model waits, then sees the job (409)
        model=model.name,
    )
    return jsonify({"job_id": job["id"], "job": public_job(job)}), 202


@bp.get("/api/covers")
def list_covers():
    return jsonify([c.to_dict() for c in ownership.covers().list()])


@bp.get("/api/covers/<cover_id>")
def get_cover(cover_id: str):
    return jsonify(ownership.owned_cover(cover_id).to_dict())


@bp.get("/api/covers/<cover_id>/audio")
def cover_audio(cover_id: str):
    entry = ownership.owned_cover(cover_id)
    return send_ranged(entry.audio_path, entry.mimetype)


@bp.get("/api/covers/<cover_id>/original")
def cover_original(cover_id: str):
    """The song as it was uploaded (for the page's A/B toggle); Range as for the cover."""
    entry = ownership.owned_cover(cover_id)
    if entry.original_path is None:
        raise PersonaError("original_missing", "this cover was made before originals were kept", status=404)
    return send_ranged(entry.original_path, entry.original_mimetype)


@bp.get("/api/covers/<cover_id>/download")
def cover_download(cover_id: str):
    entry = ownership.owned_cover(cover_id)
    return send_file(
        entry.audio_path,
        mimetype=entry.mimetype,
        as_attachment=True,
        download_name=entry.filename,
        conditional=True,
    )


@bp.delete("/api/covers/<cover_id>")
def delete_cover(cover_id: str):
    ownership.covers().delete(cover_id)
    return "", 204
