"""``GET /api/health``: version, device, pretrained assets present, queue counts, and ``options``:
what a training and a cover take (ranges, choices, defaults of ``TRAIN_PARAMS``/``COVER_PARAMS``),
so the web app offers what the server accepts, and each job kind's ``stages`` in order (the
page lists a job's stages from it; both from ``persona.jobs.kinds``)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, jsonify

from persona import __version__
from persona.jobs.kinds import KINDS, stage_orders
from persona.jobs.worker import live_workers
from persona.params import describe
from persona.server.consent_gate import consent_required
from persona.server.services import services
from persona.server.validation import AUDIO_EXTS

bp = Blueprint("health", __name__)


def _device(setting: str) -> str:
    if setting != "auto":
        return setting
    # No torch in the web process: the NVIDIA driver's proc entry tells whether a GPU is there.
    return "cuda" if Path("/proc/driver/nvidia/version").exists() else "cpu"


def _assets(settings) -> dict[str, bool]:
    """Presence only: hashing gigabytes of weights has no place in a health check."""
    from persona.assets import AssetManager

    try:
        manager = AssetManager(settings)
        return {name: manager.usable(name) for name in manager.manifest}
    except Exception:  # noqa: BLE001 - health must answer even when assets are broken
        return {}


@bp.get("/api/health")
def health():
    """``workers``: the live workers (scale-out: from Redis, so any web process lists them all).
    A job database or Redis that does not answer makes this a 503 error (``errors.install``)."""
    svc = services()
    counts = svc.queue.store.count_active()
    return jsonify(
        {
            "status": "ok",
            "version": __version__,
            "device": _device(svc.settings.device),
            "assets": _assets(svc.settings),
            "jobs": counts,
            "workers": live_workers(svc.settings),
            "auth": bool(svc.settings.token),
            "consent": {"required": consent_required(svc.settings)},
            "audio_formats": list(AUDIO_EXTS),  # what recordings and songs may be (file endings)
            "limits": {
                "max_training_files": svc.settings.max_training_files,
                "max_training_file_bytes": svc.settings.max_training_file_bytes,
                "max_upload_bytes": svc.settings.max_upload_bytes,
                "max_song_seconds": svc.settings.max_song_seconds,
                "max_training_total_seconds": svc.settings.max_training_total_seconds,
            },
            "options": {
                **{name: describe(kind.param_specs()) for name, kind in KINDS.items() if kind.params},
                "stages": stage_orders(),
            },
        }
    )
