"""Check every client-supplied value before a job exists: files, sizes, audio, parameter ranges.

Parameters are read from the form by their request type's own description
(``persona.training.request.TRAIN_PARAMS``, ``persona.cover.request.COVER_PARAMS``: ranges,
choices) and then checked by that request type itself, which imports no torch.

Uploads are saved under server-chosen names (``01.wav``...) in a staging folder; the client's
file name is kept only as a display string. Audio is checked with ``persona.audio.io.probe_audio``
(header only, no full decode in the web process) for readability and duration.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
from werkzeug.datastructures import FileStorage

from persona.cover.request import COVER_PARAMS, CoverRequest
from persona.errors import PersonaError
from persona.params import Choice, Number, Param
from persona.settings import Settings
from persona.training.request import TRAIN_PARAMS, TrainRequest

AUDIO_EXTS = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac", ".opus", ".webm", ".wma", ".aiff", ".aif")
REQUIRED_TRAIN_PARAMS = ("epochs",)


def display_name(raw: str | None, fallback: str) -> str:
    """A client file name as a harmless display string (never used as a path)."""
    name = unicodedata.normalize("NFC", os.path.basename((raw or "").replace("\\", "/")))
    name = "".join(ch for ch in name if ch.isprintable())[:120].strip()
    return name or fallback


def form_value(form: dict[str, Any], key: str, spec: Param, *, required: bool = False) -> Any:
    """``form[key]`` read as ``spec`` says; None when the client left it out."""
    if isinstance(spec, Number):
        return number(form, key, spec, required=required)
    if isinstance(spec, Choice):
        return choice(form, key, spec.choices, pattern=spec.pattern)
    return flag(form, key)


def number(form: dict[str, Any], key: str, spec: Number, *, required: bool = False) -> float | int | None:
    typ, lo, hi = spec.type, spec.min, spec.max
    raw = form.get(key)
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        if required:
            raise PersonaError("param_invalid", f"'{key}' is required", params={"field": key})
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise PersonaError("param_invalid", f"'{key}' must be a number", params={"field": key}) from None
    if not math.isfinite(value):
        raise PersonaError("param_invalid", f"'{key}' must be a finite number", params={"field": key})
    if typ is int:
        if value != int(value):
            raise PersonaError("param_invalid", f"'{key}' must be a whole number", params={"field": key})
        value = int(value)
    if not lo <= value <= hi:
        raise PersonaError(
            "param_out_of_range",
            f"'{key}' must be between {lo:g} and {hi:g} (got {value:g})",
            params={"field": key, "min": lo, "max": hi, "value": value},
        )
    return value


def choice(
    form: dict[str, Any], key: str, allowed: tuple[str, ...], *, pattern: str | None = None
) -> str | None:
    raw = form.get(key)
    if raw is None or str(raw).strip() == "":
        return None
    value = str(raw).strip().lower()
    if pattern and value not in allowed and len(value) <= 64 and re.fullmatch(pattern, value):
        return value  # a composed value: the request type checks it in full
    if value not in allowed:
        raise PersonaError(
            "param_invalid", f"'{key}' must be one of {', '.join(allowed)}", params={"field": key}
        )
    return value


def _ext(upload: FileStorage, allowed: tuple[str, ...], what: str) -> str:
    ext = Path(upload.filename or "").suffix.lower()
    if ext not in allowed:
        raise PersonaError(
            "file_type", f"{what} must be one of {' '.join(allowed)} (got {upload.filename!r})"
        )
    return ext


def save_upload(upload: FileStorage, dest: Path, *, max_bytes: int, what: str) -> int:
    """Stream an upload to ``dest``, stopping as soon as it passes ``max_bytes``."""
    size = 0
    with open(dest, "wb") as out:
        while True:
            chunk = upload.stream.read(1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise PersonaError(
                    "file_too_large",
                    f"{what} is larger than {max_bytes // (1 << 20)} MiB",
                    params={"max_mb": max_bytes // (1 << 20)},
                )
            out.write(chunk)
    if size == 0:
        raise PersonaError("audio_empty" if what != "the model zip" else "zip_invalid", f"{what} is empty")
    return size


def probe_duration(
    path: Path, what: str, *, max_seconds: float | None = None, min_seconds: float = 0.0
) -> float:
    """Header check (``probe_audio``: readable, not empty; ``check_density``: channels x rate x
    duration within what ``max_seconds`` allows) plus a decode of the first second: a file whose
    header parses but whose samples do not decode, or are not numbers, is refused here, before
    any job, as is one shorter than ``min_seconds``. Messages name the file as ``what``."""
    from persona.audio.io import check_density, probe_audio

    try:
        info = probe_audio(path)
        check_density(info, what, max_seconds)
    except PersonaError as exc:
        message = exc.message.replace(path.name, what)
        raise PersonaError(
            exc.code, message if what in message else f"{what}: {message}", exc.status, params=exc.params
        ) from exc
    start = _first_second(path, info.backend)
    if start is None or start.size == 0:
        raise PersonaError("audio_unreadable", f"{what}: the audio data cannot be decoded")
    bad = start.size - int(np.isfinite(start).sum())
    if bad > 0.01 * start.size:
        raise PersonaError(
            "audio_unreadable",
            f"{what}: {bad} of the first {start.size} samples are not numbers (NaN or infinite); it is not audio",
            params={"nonfinite": bad},
        )
    duration = float(info.duration_s)
    duration = duration if math.isfinite(duration) else 0.0
    if duration and duration < min_seconds:
        raise PersonaError(
            "audio_too_short",
            f"{what} is {duration:.2f} s long; each file needs at least {min_seconds:g} s",
            params={"seconds": round(duration, 2), "min_seconds": min_seconds},
        )
    return duration


def _first_second(path: Path, backend: str, seconds: float = 1.0) -> np.ndarray | None:
    """The first ``seconds`` of samples (any layout), or None when they do not decode."""
    try:
        if backend == "soundfile":
            import soundfile as sf

            with sf.SoundFile(path) as f:
                return f.read(frames=max(1, int(f.samplerate * seconds)), dtype="float32")
        import av

        with av.open(str(path)) as container:
            stream = next(s for s in container.streams if s.type == "audio")
            decoded, parts = 0.0, []
            for frame in container.decode(stream):
                parts.append(frame.to_ndarray().astype(np.float32, copy=False).ravel())
                decoded += frame.samples / max(1, frame.sample_rate or 1)
                if decoded >= seconds:
                    break
            return np.concatenate(parts) if parts else None
    except Exception:  # noqa: BLE001 - any decoder failure means unreadable audio
        return None


def save_audio_uploads(
    uploads: list[FileStorage],
    folder: Path,
    *,
    max_files: int,
    max_file_bytes: int,
    what: str,
    max_seconds: float | None = None,
    min_seconds: float = 0.0,
) -> list[dict[str, Any]]:
    """Save and check audio uploads (``probe_duration``: ``max_seconds`` bounds each file's
    density, ``min_seconds`` its length); return ``[{file, name, bytes, duration_s}]``."""
    uploads = [u for u in uploads if u is not None and (u.filename or "").strip()]
    if not uploads:
        raise PersonaError("files_missing", f"upload at least one {what}")
    if len(uploads) > max_files:
        raise PersonaError(
            "too_many_files",
            f"upload at most {max_files} {what}s (got {len(uploads)})",
            params={"max": max_files, "count": len(uploads)},
        )
    saved = []
    for i, upload in enumerate(uploads, start=1):
        shown = display_name(upload.filename, f"file{i}")
        try:
            ext = _ext(upload, AUDIO_EXTS, f"{what} {shown!r}")
            dest = folder / f"{i:02d}{ext}"
            size = save_upload(upload, dest, max_bytes=max_file_bytes, what=f"{what} {shown!r}")
            duration = probe_duration(dest, shown, max_seconds=max_seconds, min_seconds=min_seconds)
        except PersonaError as exc:  # the page names the file the user chose
            exc.params.setdefault("file", shown)
            raise
        saved.append({"file": dest.name, "name": shown, "bytes": size, "duration_s": round(duration, 3)})
    return saved


def training_form(form: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Training parameters -> job params (only those the client set; the rest keep TrainRequest's)."""
    params: dict[str, Any] = {}
    for key, spec in TRAIN_PARAMS.items():
        value = form_value(form, key, spec, required=key in REQUIRED_TRAIN_PARAMS)
        if value is not None:
            params[key] = value
    return params


def check_train_request(params: dict[str, Any], files: list[Path]) -> None:
    """Run the training's own validation in the web process (it imports no torch)."""
    TrainRequest.from_params(params, files).validate()


def flag(form: dict[str, Any], key: str) -> bool | None:
    raw = form.get(key)
    if raw is None or str(raw).strip() == "":
        return None
    value = str(raw).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise PersonaError("param_invalid", f"'{key}' must be true or false", params={"field": key})


def cover_form(form: dict[str, Any]) -> dict[str, Any]:
    """Cover options -> job params (``pitch`` + ``options``), checked by the cover's own request type."""
    params: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for key, spec in COVER_PARAMS.items():
        value = form_value(form, key, spec)
        if value is not None:
            (params if key == "pitch" else options)[key] = value
    params.setdefault("pitch", COVER_PARAMS["pitch"].default)
    params["options"] = options
    return params


def check_cover_request(params: dict[str, Any], song: Path) -> None:
    """Run the cover's own validation in the web process (it imports no torch)."""
    CoverRequest.from_params(params, song).validate()
