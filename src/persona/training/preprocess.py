"""Turn 1-5 user recordings into RVC's training segments.

Follows RVC's `train/preprocess.py`: decode to mono at the model rate, 5th-order Butterworth
high-pass at 48 Hz (causal ``lfilter``), cut on silence (`slicer.Slicer`), split every chunk into
3.7 s pieces that overlap by 0.3 s (the last piece takes the rest), normalise each piece as
``x / peak * 0.9 * 0.75 + 0.25 * x`` (skipping pieces whose peak is 0, not finite or above 2.5),
and write it as float32 at the model rate (``0_gt_wavs``) and at 16 kHz (``1_16k_wavs``).
Differs in: every input is checked first (count, size, decodable, total duration, enough voice)
and a user-fixable problem is a PersonaError before any training starts.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

from persona.errors import PersonaError
from persona.messages import msg
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress
from persona.settings import Settings
from persona.training.saves import PREVIEW_SOURCE as PREVIEW_FILE
from persona.training.slicer import Slicer

SEGMENT_SECONDS = 3.7
OVERLAP_SECONDS = 0.3
PEAK = 0.9
ALPHA = 0.75
MIN_VOICE_SECONDS = 10.0
# The preview slice: voice set aside (never trained on) and converted at every save.
PREVIEW_MIN_SECONDS = 8.0
PREVIEW_MAX_SECONDS = 10.0
# Pieces whose RMS stays below this are silence that slipped through (e.g. a file of pure hiss).
_SILENCE_DB = -50.0

GT_DIR = "0_gt_wavs"
WAV16K_DIR = "1_16k_wavs"


@dataclasses.dataclass(frozen=True)
class Segment:
    stem: str  # "<file index>_<piece index>", RVC's naming
    gt_path: Path
    wav16k_path: Path
    seconds: float


@dataclasses.dataclass(frozen=True)
class PreprocessResult:
    segments: list[Segment]
    voice_seconds: float  # total length of the kept segments (overlaps counted once)
    input_seconds: float
    preview: Path | None = None  # the held-out slice (model rate), when one was asked for and possible
    preview_off: str | None = None  # why there is no preview slice


def high_pass(audio: np.ndarray, sr: int) -> np.ndarray:
    b, a = signal.butter(N=5, Wn=48, btype="high", fs=sr)
    return signal.lfilter(b, a, audio).astype(np.float32)


def split_chunk(chunk: np.ndarray, sr: int) -> list[np.ndarray]:
    """3.7 s pieces every 3.4 s; the last piece (up to 4.0 s) takes what is left."""
    pieces = []
    step = int(sr * (SEGMENT_SECONDS - OVERLAP_SECONDS))
    tail = (SEGMENT_SECONDS + OVERLAP_SECONDS) * sr
    start = 0
    while len(chunk) - start > tail:
        pieces.append(chunk[start : start + int(SEGMENT_SECONDS * sr)])
        start += step
    pieces.append(chunk[start:])
    return pieces


def normalise(piece: np.ndarray) -> np.ndarray | None:
    peak = float(np.abs(piece).max()) if len(piece) else 0.0
    if not np.isfinite(peak) or peak <= 0 or peak > 2.5:
        return None
    return (piece / peak * (PEAK * ALPHA) + (1 - ALPHA) * piece).astype(np.float32)


def check_inputs(settings: Settings, files: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Count and size limits, before anything is decoded."""
    paths = [Path(f) for f in files]
    if not paths:
        raise PersonaError("no_files", "give at least one recording of your voice")
    if len(paths) > settings.max_training_files:
        raise PersonaError(
            "too_many_files",
            f"at most {settings.max_training_files} recordings can be used for one model ({len(paths)} given)",
        )
    for p in paths:
        if not p.is_file():
            raise PersonaError("file_not_found", f"recording not found: {p.name}", params={"file": p.name})
        if p.stat().st_size > settings.max_training_file_bytes:
            mb = settings.max_training_file_bytes // (1024 * 1024)
            raise PersonaError(
                "file_too_large", f"{p.name} is larger than {mb} MB", params={"file": p.name, "max_mb": mb}
            )
    return paths


def load_recordings(
    settings: Settings, paths: Sequence[Path], sr: int, cancel: CancelToken = NEVER_CANCELLED
) -> list[np.ndarray]:
    """Decode every file (mono, at ``sr``) and enforce the total-duration limit."""
    from persona.audio.io import load_audio

    limit = settings.max_training_total_seconds
    out, total = [], 0.0
    for p in paths:
        cancel.check()
        try:
            audio, _ = load_audio(p, sr=sr, mono=True, max_seconds=limit)
        except PersonaError as exc:
            if exc.code == "audio_too_long":
                raise _too_long(total + float(exc.params.get("minutes", 0)) * 60, limit) from exc
            raise PersonaError(
                exc.code, f"{p.name}: {exc.message}", exc.status, params={**exc.params, "file": p.name}
            ) from exc
        total += len(audio) / sr
        if total > limit:
            raise _too_long(total, limit)
        out.append(np.asarray(audio, dtype=np.float32))
    return out


def _too_long(total: float, limit: float) -> PersonaError:
    from persona.audio.io import too_long

    return too_long(
        "the recordings are too long in total; use less audio", total, limit, code="training_audio_too_long"
    )


def preprocess(
    settings: Settings,
    files: Sequence[str | os.PathLike[str]],
    out_dir: Path,
    sr: int,
    *,
    min_voice_seconds: float = MIN_VOICE_SECONDS,
    preview: bool = False,
    progress: ProgressFn = null_progress,
    cancel: CancelToken = NEVER_CANCELLED,
) -> PreprocessResult:
    """Write RVC's ``0_gt_wavs`` and ``1_16k_wavs`` under ``out_dir``; raise before training on
    bad input (``no_voice`` when only silence, ``not_enough_voice`` under ``min_voice_seconds``).

    ``preview``: set 8-10 s of voice aside (``PREVIEW_FILE``, never trained on) when the rest still
    holds ``min_voice_seconds``; otherwise ``preview_off`` says why there is none."""
    from persona.audio.resample import resample

    paths = check_inputs(settings, files)
    recordings = load_recordings(settings, paths, sr, cancel)
    input_seconds = sum(len(r) for r in recordings) / sr
    slicer = Slicer(sr)
    silence = 10 ** (_SILENCE_DB / 20)
    gt_dir, k_dir = out_dir / GT_DIR, out_dir / WAV16K_DIR
    gt_dir.mkdir(parents=True, exist_ok=True)
    k_dir.mkdir(parents=True, exist_ok=True)
    chunks: list[tuple[int, np.ndarray]] = []
    for i, audio in enumerate(recordings):
        cancel.check()
        progress(
            "preprocess", i / len(recordings), msg("preprocess_recording", n=i + 1, total=len(recordings))
        )
        if len(audio) == 0:
            continue
        for chunk in slicer.slice(high_pass(audio, sr)):
            cancel.check()
            if len(chunk) and np.sqrt(np.mean(chunk.astype(np.float64) ** 2)) >= silence:
                chunks.append((i, chunk))
    total_voice = sum(len(c) for _, c in chunks) / sr
    preview_path, preview_off = None, None
    if preview:
        chunks, held = _hold_out_preview(chunks, sr, total_voice, min_voice_seconds)
        if held is None:
            preview_off = (
                f"previews are off: they set {PREVIEW_MIN_SECONDS:.0f} s of voice aside, and "
                f"{total_voice:.1f} s of voice leaves too little to train on (needs "
                f"{min_voice_seconds + PREVIEW_MIN_SECONDS:.0f} s in all)"
            )
        else:
            preview_path = out_dir / PREVIEW_FILE
            sf.write(preview_path, held, sr, subtype="FLOAT")
    segments: list[Segment] = []
    voice = 0.0
    counters: dict[int, int] = {}
    for i, chunk in chunks:
        cancel.check()
        voice += len(chunk) / sr
        for piece in split_chunk(chunk, sr):
            norm = normalise(piece)
            if norm is None or len(norm) < sr // 10:
                continue
            j = counters.get(i, 0)
            counters[i] = j + 1
            stem = f"{i}_{j}"
            gt, k16 = gt_dir / f"{stem}.wav", k_dir / f"{stem}.wav"
            sf.write(gt, norm, sr, subtype="FLOAT")
            sf.write(k16, resample(norm, sr, 16000).astype(np.float32), 16000, subtype="FLOAT")
            segments.append(Segment(stem, gt, k16, len(norm) / sr))
    progress("preprocess", 1.0)
    if not segments or voice <= 0:
        raise PersonaError("no_voice", "the recordings contain only silence; record your voice and try again")
    if voice < min_voice_seconds:
        raise PersonaError(
            "not_enough_voice",
            f"only {voice:.1f} s of voice found; give at least {min_voice_seconds:.0f} s of singing or speech",
        )
    return PreprocessResult(
        segments=segments,
        voice_seconds=voice,
        input_seconds=input_seconds,
        preview=preview_path,
        preview_off=preview_off,
    )


def _hold_out_preview(
    chunks: list[tuple[int, np.ndarray]], sr: int, total_voice: float, min_voice_seconds: float
) -> tuple[list[tuple[int, np.ndarray]], np.ndarray | None]:
    """Take 8-10 s of voice from the end of the last recordings (whole chunks, or a chunk's tail).

    Returns the chunks left to train on and the held-out slice (chunks joined by 0.2 s of silence),
    or the chunks unchanged and None when the rest would hold less than ``min_voice_seconds``.
    """
    if total_voice - PREVIEW_MIN_SECONDS < min_voice_seconds:
        return chunks, None
    keep = list(chunks)
    taken: list[np.ndarray] = []
    have = 0
    want_min = int(PREVIEW_MIN_SECONDS * sr)
    want_max = int(min(PREVIEW_MAX_SECONDS, total_voice - min_voice_seconds) * sr)
    while keep and have < want_min:
        i, chunk = keep.pop()
        room = want_max - have
        if len(chunk) <= room:
            taken.insert(0, chunk)
            have += len(chunk)
        else:  # the chunk's tail becomes the preview; its head still trains
            taken.insert(0, chunk[-room:])
            keep.append((i, chunk[:-room]))
            have += room
    gap = np.zeros(int(0.2 * sr), dtype=np.float32)
    parts = [p for c in taken for p in (c.astype(np.float32), gap)][:-1]
    return keep, np.concatenate(parts)
