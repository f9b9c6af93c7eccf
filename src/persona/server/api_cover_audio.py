"""``GET /api/jobs/<id>/audio``: what of a cover can be played, while it is made and after.

While a cover job runs, its worker appends the finished pieces to ``preview.pcm`` (s16le stereo,
``persona.audio.preview``) in the attempt's scratch folder and reports ``metrics.ready_frames``
(``ready_s``, ``ready_rate``) once they are on disk. This route serves exactly that part as a WAV
(a header for the ready frames, then the bytes), honouring Range, so the page can fetch each new
piece as it comes. When the job has succeeded it serves the finished cover (as
``/api/covers/<id>/audio``); a stopped or failed cover has nothing to play (its pieces went with
its scratch folder).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, request

from persona.audio.wavhead import HEADER_BYTES, PREVIEW_FILE, wav_header
from persona.audio.wavhead import PREVIEW_CHANNELS as CHANNELS
from persona.errors import PersonaError
from persona.server import ownership
from persona.server.ranges import normalize_range
from persona.server.services import services

bp = Blueprint("cover_audio", __name__)

_CHUNK = 1 << 16


def preview_path(jobs_dir: Path, job_id: str, token: str) -> Path:
    """Where an attempt's playable part grows (the runner's scratch folder naming)."""
    return Path(jobs_dir) / job_id / f"attempt-{token[:12]}" / PREVIEW_FILE


@bp.get("/api/jobs/<job_id>/audio")
def job_audio(job_id: str):
    svc = services()
    job = ownership.owned_job(job_id, svc.queue.store)  # someone else's job is not found
    if job["kind"] != "cover":
        raise PersonaError("job_no_audio", "only a cover job has audio", status=404)
    if job["status"] == "succeeded" and (job["result"] or {}).get("cover_id"):
        from persona.server.api_covers import cover_audio

        return cover_audio(job["result"]["cover_id"])
    metrics = job["metrics"] or {}
    frames, rate = int(metrics.get("ready_frames") or 0), int(metrics.get("ready_rate") or 0)
    token = job.get("attempt_token") or ""
    if job["status"] != "running" or not token:
        raise PersonaError(
            "cover_not_playable",
            f"this cover is {job['status']}: nothing of it can be played",
            status=404,
            params={"status": job["status"]},
        )
    path = preview_path(svc.settings.jobs_dir, job_id, token)
    if frames <= 0 or rate <= 0 or not path.is_file():
        raise PersonaError(
            "cover_not_playable",
            "nothing of this cover can be played yet",
            status=409,
            params={"status": "running"},
        )
    frames = min(frames, path.stat().st_size // (2 * CHANNELS))
    return _serve(wav_header(rate, CHANNELS, frames), path, frames * 2 * CHANNELS)


def _serve(header: bytes, path: Path, data_bytes: int) -> Response:
    """``header`` + the first ``data_bytes`` of ``path`` as one WAV, with Range (RFC 7233)."""
    total = HEADER_BYTES + data_bytes
    normalize_range(request.environ, total)
    start, stop, status = 0, total, 200
    rng = request.range
    if rng is not None:
        span = rng.range_for_length(total)
        if span is None:
            resp = Response(status=416)
            resp.headers["Content-Range"] = f"bytes */{total}"
            return resp
        start, stop, status = span[0], span[1], 206

    def body():
        pos = start
        if pos < HEADER_BYTES:
            yield header[pos : min(stop, HEADER_BYTES)]
            pos = HEADER_BYTES
        with open(path, "rb") as f:
            f.seek(pos - HEADER_BYTES)
            while pos < stop:
                chunk = f.read(min(_CHUNK, stop - pos))
                if not chunk:
                    break
                pos += len(chunk)
                yield chunk

    resp = Response(body(), status=status, mimetype="audio/wav", direct_passthrough=True)
    resp.headers["Content-Length"] = str(stop - start)
    resp.headers["Accept-Ranges"] = "bytes"
    resp.headers["Cache-Control"] = "no-store"  # grows while the cover is made
    resp.headers["X-Persona-Preview"] = "s16le"  # the page tells it from the finished file
    if status == 206:
        resp.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{total}"
    return resp
