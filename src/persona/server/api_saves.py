"""The saves of a training: its ledger, the preview of every save, and exporting any kept save.

* ``GET /api/jobs/<id>/training`` and ``GET /api/models/<name>/saves``: losses per epoch, metrics
  per save (with ``preview_url``), the chosen save and why, the plateau hint, previews on/off + why.
* ``GET /api/jobs/<id>/previews/<epoch>`` (and ``/api/models/<name>/previews/<epoch>``): the
  held-out slice converted at that save, 16-bit wav, Range honoured; ``source`` is the slice itself.
* ``POST /api/models/<name>/saves/<epoch>/export``: replace the library model by that kept save.
Reads ``persona.training.saves``'s files; tensors never load here except to check the replacement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Blueprint, jsonify

from persona.errors import PersonaError
from persona.server import ownership
from persona.server.ranges import send_ranged
from persona.server.services import services
from persona.training import saves

bp = Blueprint("saves", __name__)


def _experiment(name: str) -> Path:
    from persona.library import validate_model_name

    return ownership.owner_settings().training_dir / validate_model_name(name)


def _job_model(job_id: str) -> str:
    job = ownership.owned_job(job_id)
    if job["kind"] != "train" or not (job.get("model") or job["params"].get("name")):
        raise PersonaError("not_a_training", "this job is not a training", status=404)
    return job.get("model") or job["params"]["name"]


def _report(exp: Path, url: str) -> dict[str, Any]:
    ledger = saves.read(exp)
    out = saves.summary(ledger)
    for s in out["saves"]:
        s["preview_url"] = f"{url}/{s['epoch']}" if s["preview"] else None
    previews = out.get("previews") or {}
    out["source_url"] = f"{url}/source" if previews.get("enabled") else None
    out["epochs"] = ledger["epochs"]
    out["prefer"] = ledger.get("prefer", "best")
    return out


def _preview(exp: Path, epoch: str):
    if epoch == "source":
        path = exp / saves.PREVIEW_SOURCE
    else:
        try:
            n = int(epoch)
        except ValueError:
            raise PersonaError("param_invalid", "the epoch must be a whole number or 'source'") from None
        rel = next((s.get("preview") for s in saves.read(exp)["saves"] if s["epoch"] == n), None)
        path = exp / rel if rel else None
    if path is None or not path.is_file():
        raise PersonaError("preview_not_found", f"no preview for {epoch}", status=404)
    return send_ranged(path, "audio/wav", max_age=0)


@bp.get("/api/jobs/<job_id>/training")
def job_training(job_id: str):
    name = _job_model(job_id)
    return jsonify(_report(_experiment(name), f"/api/jobs/{job_id}/previews"))


@bp.get("/api/jobs/<job_id>/previews/<epoch>")
def job_preview(job_id: str, epoch: str):
    return _preview(_experiment(_job_model(job_id)), epoch)


@bp.get("/api/models/<name>/saves")
def model_saves(name: str):
    entry = ownership.owned_model(name)
    return jsonify(_report(_experiment(entry.name), f"/api/models/{quote(entry.name, safe='')}/previews"))


@bp.get("/api/models/<name>/previews/<epoch>")
def model_preview(name: str, epoch: str):
    return _preview(_experiment(ownership.owned_model(name).name), epoch)


@bp.post("/api/models/<name>/saves/<epoch>/export")
def export_save(name: str, epoch: str):
    svc = services()
    if not epoch.isdigit():
        raise PersonaError("param_invalid", "the epoch must be a whole number")
    epoch = int(epoch)
    library = ownership.models()
    entry = library.get(name)
    if svc.queue.store.model_in_use(entry.name, library.owner):
        raise PersonaError(
            "model_in_use", f"model {entry.name!r} is used by a running or queued job", status=409
        )
    exp = _experiment(entry.name)
    ledger = saves.read(exp)
    path = saves.kept_model(exp, ledger, epoch)
    record = next(s for s in ledger["saves"] if s["epoch"] == epoch)
    training = dict(entry.metadata.get("training") or {})
    training["exported_epoch"] = epoch
    training["choice"] = saves.user_choice(epoch)
    metadata = {k: entry.metadata[k] for k in ("voice_profile", "voice_embedding") if k in entry.metadata}
    metadata["training"] = training
    if record.get("metrics"):
        metadata["quality"] = {**record["metrics"], "epoch": epoch}
    new = library.add(entry.name, path, entry.index_path, source="trained", metadata=metadata, replace=True)
    ledger["exported_epoch"] = epoch
    saves.write(exp, ledger)
    return jsonify(new.to_dict())
