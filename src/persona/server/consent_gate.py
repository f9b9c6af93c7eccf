"""The consent gate in the web process: hand out sentences, and take a live-read consent with a
training upload (or a confirmation with a model import).

Whether consent is asked: ``Settings.consent`` ("auto": once accounts exist; "on"; "off", logged
at start). What the web process checks before anything is queued (torch-free): the clip is a
browser recording (MediaRecorder's containers: WebM, Ogg or MP4 audio; an uploaded .wav or .mp3 is
not a live recording), it is speech of a sensible length, its challenge is this person's, for this
model name, unused and fresh, and its bytes were never used before. Whose voice it is, the worker
checks against the recordings before training (``persona.jobs.handlers.run_train``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.datastructures import FileStorage

from persona.consent import challenge, record, speech
from persona.errors import PersonaError
from persona.server import ownership
from persona.server.identity import accounts_enabled, current_owner
from persona.server.services import services
from persona.server.validation import display_name, save_upload
from persona.settings import Settings

log = logging.getLogger(__name__)
bp = Blueprint("consent", __name__)

LIVE_EXTS = (".webm", ".weba", ".ogg", ".oga", ".opus", ".m4a", ".mp4")  # what MediaRecorder writes
MAX_CLIP_BYTES = 10 * 1024 * 1024  # a minute of Opus is ~0.5 MB; a minute of raw PCM in MP4 ~11 MB


def consent_required(settings: Settings) -> bool:
    if settings.consent == "on":
        return True
    if settings.consent == "off":
        return False
    return accounts_enabled(settings)


def log_policy(settings: Settings) -> None:
    """Said once at start: an operator who turned the gate off sees it in the log."""
    if settings.consent == "off":
        log.warning(
            "consent gate is OFF (PERSONA_CONSENT=off): trainings are not asked for a live-read consent"
        )


@bp.post("/api/consent/challenges")
def new_challenge():
    """A sentence for the person to read aloud before training ``model_name``."""
    svc = services()
    body = request.get_json(silent=True) or {}
    raw = body.get("model_name") if isinstance(body, dict) else None
    name = ownership.models().check_new_name(raw if isinstance(raw, str) else request.form.get("model_name"))
    c = challenge.issue(svc.settings, name, current_owner())
    return jsonify({**c.public(), "required": consent_required(svc.settings)}), 201


def take_training_consent(
    settings: Settings, upload: FileStorage | None, challenge_id: str | None, inputs: Path, *, name: str
) -> dict[str, Any] | None:
    """The consent for this training as job params (``None`` when none was given and none is
    needed), or a PersonaError; the clip is saved as ``inputs/consent<ext>``."""
    if upload is None or not (upload.filename or "").strip():
        if consent_required(settings):
            raise PersonaError(
                "consent_required",
                "read the consent sentence aloud with your microphone before training a voice",
                params={"field": "consent"},
            )
        return None
    shown = display_name(upload.filename, "consent")
    ext = Path(upload.filename or "").suffix.lower()
    if ext not in LIVE_EXTS:
        raise PersonaError(
            "consent_not_live",
            "the consent must be recorded live in the page, not uploaded as a file",
            params={"file": shown},
        )
    dest = inputs / f"consent{ext}"
    save_upload(upload, dest, max_bytes=MAX_CLIP_BYTES, what="consent recording")
    facts = speech.check_clip(_decode16k(dest, shown), file=shown)
    c = challenge.take(settings, challenge_id or "", model_name=name, owner=current_owner())
    sha = record.sha256_file(dest)
    record.claim_clip(settings, sha)
    return {
        "file": dest.name,
        "sentence": c.sentence,
        "sha256": sha,
        "speech_s": round(facts.speech_s, 2),
        "recorded_at": time.time(),
        "owner": current_owner() or "",
    }


def take_import_confirmation(settings: Settings, form) -> dict[str, Any] | None:
    """An imported model is someone's voice: the person confirms they may use it."""
    confirmed = str(form.get("rights_confirmed") or "").lower() in ("1", "true", "yes", "on")
    if not confirmed:
        if consent_required(settings):
            raise PersonaError(
                "rights_confirmation_required",
                "confirm that you have the right to use the voice in this model",
                params={"field": "rights_confirmed"},
            )
        return None
    return record.imported(owner=current_owner())


def _decode16k(path: Path, shown: str):
    from persona.audio.io import load_audio

    try:
        audio, _ = load_audio(path, sr=16000, mono=True, max_seconds=speech.MAX_CLIP_S + 5)
    except PersonaError as exc:
        exc.params["file"] = shown
        raise
    return audio
