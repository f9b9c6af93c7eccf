"""From a multipart upload to a queued job: the one path covers and trainings take.

The files are saved into a fresh staging folder and checked (format, size, decodable, total
length); then the route's own check of the request runs, the job is refused if it lacks weights
(``assets_needed``), and only then does the staging folder become the job's folder and the job
enter the queue, while ``hold`` (a library lock) keeps its model or name from changing under it.
Anything refused leaves nothing behind. Whatever every uploaded job needs (an owner, a quota
check) is added here once, not per route.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from flask import request

from persona.cover.request import MIN_SONG_S
from persona.errors import PersonaError, duration_params
from persona.jobs.store import new_job_id
from persona.server import ownership
from persona.server.api_assets import refuse_if_missing
from persona.server.services import services
from persona.server.validation import save_audio_uploads
from persona.settings import Settings
from persona.training.request import MIN_RECORDING_S


@dataclasses.dataclass(frozen=True)
class UploadRule:
    """What a route takes: the form ``field``, ``what`` a file is (for messages), how many files,
    how large each, and how long together (seconds); ``too_long`` words the refusal, with
    ``{minutes}`` (what was sent) and ``{limit}`` (what is allowed). ``min_file_seconds``
    refuses, at upload, a file the job would refuse later (a 0.1 s song)."""

    field: str
    what: str
    max_files: int
    max_file_bytes: int
    max_seconds: float
    too_long: str
    min_file_seconds: float = 0.0

    def file_limits(self) -> dict[str, Any]:
        """What ``save_audio_uploads`` checks each file against."""
        return {
            "max_files": self.max_files, "max_file_bytes": self.max_file_bytes, "what": self.what,
            "max_seconds": self.max_seconds, "min_seconds": self.min_file_seconds,
        }  # fmt: skip


def song_rule(settings: Settings) -> UploadRule:
    """A cover's song: one file, within the upload and song-length limits."""
    return UploadRule("song", "song", 1, settings.max_upload_bytes, settings.max_song_seconds,
                      "the song lasts {minutes:.1f} min; at most {limit:.0f} min allowed", MIN_SONG_S)  # fmt: skip


def recordings_rule(settings: Settings) -> UploadRule:
    """A training's recordings: up to the file count, each within its size, all within the length."""
    return UploadRule("files", "recording", settings.max_training_files, settings.max_training_file_bytes,
                      settings.max_training_total_seconds,
                      "the recordings last {minutes:.1f} min together; at most {limit:.0f} min allowed",
                      MIN_RECORDING_S)  # fmt: skip


def queue_upload_job(
    kind: str,
    rule: UploadRule,
    params: dict[str, Any],
    *,
    check: Callable[[list[Path]], dict[str, Any] | None],
    describe: Callable[[list[dict[str, Any]]], dict[str, Any]],
    hold: AbstractContextManager,
    model: str,
) -> dict[str, Any]:
    """Save and check ``rule``'s uploads, ``check(paths)`` the request, and queue a ``kind`` job.

    ``params``: the job's checked form values; ``describe(saved)`` adds what the job records of
    its files (``saved``: ``[{file, name, bytes, duration_s}]``); ``check`` may return more params
    (what it took from the request besides the files). Returns the queued job's row."""
    svc = services()
    # Before a byte is kept: the body's size against the stored-bytes limit, one more job (and,
    # for a training, one more model) against the person's counts.
    ownership.check_quota(
        add_bytes=request.content_length or 0, add_jobs=1, add_models=1 if kind == "train" else 0
    )
    staging = svc.staging()
    try:
        inputs = staging / "inputs"
        inputs.mkdir()
        uploads = request.files.getlist(rule.field)
        if rule.max_files == 1 and len(uploads) > 1:
            raise PersonaError("too_many_files", f"upload one {rule.what}")
        saved = save_audio_uploads(uploads, inputs, **rule.file_limits())
        total = sum(s["duration_s"] for s in saved)
        if total > rule.max_seconds:
            named = {"file": saved[0]["name"]} if len(saved) == 1 else {}
            raise PersonaError(
                "audio_too_long",
                rule.too_long.format(minutes=total / 60, limit=rule.max_seconds / 60),
                params={**duration_params(total, rule.max_seconds), **named},
            )

        checked = check([inputs / s["file"] for s in saved]) or {}
        refuse_if_missing(kind, params)  # after the inputs' own checks; nothing is kept
        job_id = new_job_id()
        os.rename(staging, svc.queue.job_dir(job_id))
    except BaseException:
        svc.discard(staging)
        raise
    params = {**params, **describe(saved), **checked}
    try:
        with hold:
            return svc.queue.submit(kind, params, model=model, job_id=job_id, owner=ownership.owner())
    except BaseException:
        shutil.rmtree(svc.queue.job_dir(job_id), ignore_errors=True)
        raise
