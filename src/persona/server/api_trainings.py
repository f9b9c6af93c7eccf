"""``POST /api/trainings``: validate recordings and parameters, then queue a training job."""

from __future__ import annotations

import os
import shutil

from flask import Blueprint, jsonify, request

from persona.errors import PersonaError
from persona.jobs.public import public_job
from persona.jobs.store import new_job_id
from persona.server.api_assets import refuse_if_missing
from persona.server.services import services
from persona.server.validation import check_train_request, save_audio_uploads, training_form

bp = Blueprint("trainings", __name__)


@bp.post("/api/trainings")
def start_training():
    svc = services()
    settings = svc.settings
    name = svc.models.check_new_name(request.form.get("name"))  # early, before the uploads
    params = training_form(request.form, settings)
    staging = svc.staging()
    try:
        inputs = staging / "inputs"
        inputs.mkdir()
        saved = save_audio_uploads(
            request.files.getlist("files"),
            inputs,
            max_files=settings.max_training_files,
            max_file_bytes=settings.max_training_file_bytes,
            what="recording",
        )
        total = sum(s["duration_s"] for s in saved)
        if total > settings.max_training_total_seconds:
            raise PersonaError(
                "audio_too_long",
                f"the recordings last {total / 60:.1f} min together; at most "
                f"{settings.max_training_total_seconds / 60:.0f} min allowed",
            )
        check_train_request({**params, "name": name}, [inputs / s["file"] for s in saved])
        refuse_if_missing("train", params)  # after the inputs' own checks; nothing is kept
        job_id = new_job_id()
        os.rename(staging, svc.queue.job_dir(job_id))
    except BaseException:
        svc.discard(staging)
        raise
    params.update(
        name=name,
        files=[{k: s[k] for k in ("name", "bytes", "duration_s")} for s in saved],
        _files=[s["file"] for s in saved],
        total_seconds=round(total, 3),
    )
    try:  # checked again and recorded under the library's lock: an upload cannot take the name now
        with svc.models.reserving(name):
            job = svc.queue.submit("train", params, model=name, job_id=job_id)
    except BaseException:
        shutil.rmtree(svc.queue.job_dir(job_id), ignore_errors=True)
        raise
    return jsonify({"job_id": job["id"], "model_name": name, "job": public_job(job)}), 202
