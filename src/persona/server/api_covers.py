"""``/api/covers``: create (queues a cover job), list, get, stream with Range, the original song, download, delete."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from flask import Blueprint, jsonify, request, send_file

from persona.errors import PersonaError
from persona.jobs.public import public_job
from persona.jobs.store import new_job_id
from persona.server.api_assets import refuse_if_missing
from persona.server.ranges import normalize_range
from persona.server.services import services
from persona.server.validation import check_cover_request, cover_form, save_audio_uploads

bp = Blueprint("covers", __name__)


@bp.post("/api/covers")
def create_cover():
    svc = services()
    settings = svc.settings
    model_name = request.form.get("model")
    if not model_name:
        raise PersonaError("param_invalid", "'model' is required")
    model = svc.models.get(model_name)
    params = cover_form(request.form)
    staging = svc.staging()
    try:
        inputs = staging / "inputs"
        inputs.mkdir()
        uploads = request.files.getlist("song")
        if len(uploads) > 1:
            raise PersonaError("too_many_files", "upload one song")
        saved = save_audio_uploads(
            uploads, inputs, max_files=1, max_file_bytes=settings.max_upload_bytes, what="song"
        )[0]
        if saved["duration_s"] > settings.max_song_seconds:
            raise PersonaError(
                "audio_too_long",
                f"the song lasts {saved['duration_s'] / 60:.1f} min; at most {settings.max_song_seconds / 60:.0f} min allowed",
            )
        check_cover_request({**params, "model": model.name}, inputs / saved["file"])
        refuse_if_missing("cover", params)  # after the inputs' own checks; nothing is kept
        job_id = new_job_id()
        os.rename(staging, svc.queue.job_dir(job_id))
    except BaseException:
        svc.discard(staging)
        raise
    params.update(
        model=model.name, song_name=saved["name"], _song=saved["file"], duration_s=saved["duration_s"]
    )
    try:  # recorded while the model is held: a DELETE of it waits, then sees the job (409)
        with svc.models.using(model.name):
            job = svc.queue.submit("cover", params, model=model.name, job_id=job_id)
    except BaseException:
        shutil.rmtree(svc.queue.job_dir(job_id), ignore_errors=True)
        raise
    return jsonify({"job_id": job["id"], "job": public_job(job)}), 202


@bp.get("/api/covers")
def list_covers():
    return jsonify([c.to_dict() for c in services().covers.list()])


@bp.get("/api/covers/<cover_id>")
def get_cover(cover_id: str):
    return jsonify(services().covers.get(cover_id).to_dict())


@bp.get("/api/covers/<cover_id>/audio")
def cover_audio(cover_id: str):
    entry = services().covers.get(cover_id)
    # conditional=True: werkzeug answers Range requests with 206 and Content-Range.
    normalize_range(request.environ, Path(entry.audio_path).stat().st_size)
    resp = send_file(entry.audio_path, mimetype=entry.mimetype, conditional=True, etag=True)
    resp.headers["Accept-Ranges"] = "bytes"
    return resp


@bp.get("/api/covers/<cover_id>/original")
def cover_original(cover_id: str):
    """The song as it was uploaded (for the page's A/B toggle); Range as for the cover."""
    entry = services().covers.get(cover_id)
    if entry.original_path is None:
        raise PersonaError("original_missing", "this cover was made before originals were kept", status=404)
    normalize_range(request.environ, Path(entry.original_path).stat().st_size)
    resp = send_file(entry.original_path, mimetype=entry.original_mimetype, conditional=True, etag=True)
    resp.headers["Accept-Ranges"] = "bytes"
    return resp


@bp.get("/api/covers/<cover_id>/download")
def cover_download(cover_id: str):
    entry = services().covers.get(cover_id)
    return send_file(
        entry.audio_path,
        mimetype=entry.mimetype,
        as_attachment=True,
        download_name=entry.filename,
        conditional=True,
    )


@bp.delete("/api/covers/<cover_id>")
def delete_cover(cover_id: str):
    services().covers.delete(cover_id)
    return "", 204
