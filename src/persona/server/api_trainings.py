"""``POST /api/trainings``: validate recordings and parameters, then queue a training job."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from persona.jobs.public import public_job
from persona.server import ownership
from persona.server.consent_gate import take_training_consent
from persona.server.job_uploads import queue_upload_job, recordings_rule
from persona.server.services import services
from persona.server.validation import check_train_request, training_form

bp = Blueprint("trainings", __name__)


@bp.post("/api/trainings")
def start_training():
    svc = services()
    settings = svc.settings
    library = ownership.models()
    name = library.check_new_name(request.form.get("name"))  # early, before the uploads
    params = training_form(request.form, settings)
    job = queue_upload_job(
        "train",
        recordings_rule(settings),
        params,
        check=lambda paths: _check(params, name, paths),
        describe=lambda saved: {
            "name": name,
            "files": [{k: s[k] for k in ("name", "bytes", "duration_s")} for s in saved],
            "_files": [s["file"] for s in saved],
            "total_seconds": round(sum(s["duration_s"] for s in saved), 3),
        },
        # checked again under the library's lock: an upload cannot take the name now
        hold=library.reserving(name),
        model=name,
    )
    return jsonify({"job_id": job["id"], "model_name": name, "job": public_job(job)}), 202


def _check(params, name, paths):
    """The request's own checks, then its consent (saved beside the recordings)."""
    check_train_request({**params, "name": name}, paths)
    consent = take_training_consent(
        services().settings,
        request.files.get("consent"),
        request.form.get("consent_challenge"),
        paths[0].parent,
        name=name,
    )
    return {"_consent": consent} if consent else None
