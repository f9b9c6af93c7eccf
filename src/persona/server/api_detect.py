"""``POST /api/detect``: does an uploaded file carry Persona's watermark (and signed credentials)?

Open to anyone, also on an instance with an access token or accounts (``signin.OPEN_TO_ANYONE``): checking whether a file was
made by AI is the point of a public mark (EU AI Act Art. 50). The file is checked in the request
(the detector reads at most its first four minutes, in a second or two) and deleted at once.
A file that is not audio is ``audio_unreadable`` (400), one longer than a song may be
``audio_too_long``. Being open, the route bounds its cost: at most ``CONCURRENT`` checks run at
once in a web process; a request that waits ``WAIT_S`` for a turn is ``detect_busy`` (503).
"""

from __future__ import annotations

import threading

from flask import Blueprint, jsonify, request

from persona import provenance
from persona.errors import PersonaError
from persona.server.services import services
from persona.server.validation import save_audio_uploads

bp = Blueprint("detect", __name__)
CONCURRENT = 2
WAIT_S = 30.0
_turns = threading.BoundedSemaphore(CONCURRENT)


@bp.post("/api/detect")
def detect():
    svc = services()
    settings = svc.settings
    uploads = request.files.getlist("file")
    if len(uploads) > 1:
        raise PersonaError("too_many_files", "upload one file", params={"max": 1, "count": len(uploads)})
    staging = svc.staging()
    try:
        saved = save_audio_uploads(
            uploads, staging, max_files=1, max_file_bytes=settings.max_upload_bytes, what="file"
        )[0]
        path = staging / saved["file"]
        if not _turns.acquire(timeout=WAIT_S):
            raise PersonaError(
                "detect_busy", "too many files are being checked; try again shortly", status=503
            )
        try:
            answer = provenance.detect_file(path, name=saved["name"], max_seconds=settings.max_song_seconds)
            manifest = provenance.read_credentials(path)
        finally:
            _turns.release()
        answer["credentials"] = None if manifest is None else provenance.summarize_credentials(manifest)
        answer["threshold"] = provenance.THRESHOLD
    finally:
        svc.discard(staging)
    return jsonify(answer)
