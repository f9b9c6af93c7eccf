"""Decode and encode audio files: the one door through which audio enters and leaves Persona.

Decoding: libsndfile (``soundfile``) first, for wav (8/16/24/32-bit int, float32/64), flac, ogg
and mp3; PyAV (bundled FFmpeg) for what libsndfile cannot read (m4a/aac, opus in mp4, wma, ...).
The duration is read from the header and checked against ``max_seconds`` before any sample is
decoded. Samples come back as float32 in [-1, 1] (a file whose peak exceeds 1, e.g. a hot float
wav or an overshooting mp3, is scaled down by its peak as RVC's pipeline does); NaN/inf samples are
zeroed, and a file that is mostly NaN/inf is refused.

Encoding: wav (float32 or PCM16), flac, mp3 (PyAV's LAME at 320 kbit/s; soundfile as fallback).
Every output appears atomically.

Every failure a user can cause is a PersonaError: ``audio_unreadable``, ``audio_empty``,
``audio_too_long``, ``audio_silent``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from persona.audio.resample import resample
from persona.errors import PersonaError, duration_params
from persona.fsutil import atomic_path

log = logging.getLogger(__name__)

# Formats save_audio writes; the suffix picks one when ``format`` is not given.
SAVE_FORMATS = ("wav", "wav16", "flac", "mp3")
_SUFFIX_FORMAT = {".wav": "wav", ".flac": "flac", ".mp3": "mp3"}
# MPEG-1/2/2.5 layer III sample rates; anything else is resampled before encoding.
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
# Refuse a decode whose samples are more than this fraction NaN/inf: it is not audio.
_MAX_NONFINITE_FRACTION = 0.01
# Peak below this (-60 dBFS) counts as silence.
SILENCE_PEAK = 10 ** (-60 / 20)


@dataclasses.dataclass(frozen=True)
class AudioInfo:
    """What the header says about an audio file (cheap: no samples are decoded)."""

    duration_s: float
    sample_rate: int
    channels: int
    format: str  # "wav", "flac", "ogg", "mp3", "aac", ... (lower case)
    frames: int | None = None  # None when only an estimate of the duration is known
    backend: str = "soundfile"  # "soundfile" or "av"


def _name(path: Path) -> str:
    return path.name or str(path)


def _unreadable(path: Path, detail: str = "") -> PersonaError:
    extra = f" ({detail})" if detail else ""
    return PersonaError(
        "audio_unreadable",
        f"{_name(path)} is not an audio file Persona can decode{extra}; use wav, mp3, flac, ogg or m4a",
    )


def _empty(path: Path) -> PersonaError:
    return PersonaError("audio_empty", f"{_name(path)} contains no audio (zero length)")


def _too_long(path: Path, duration: float, max_seconds: float) -> PersonaError:
    return too_long(f"{_name(path)} is {_fmt_duration(duration)} long", duration, max_seconds, status=413)


def too_long(
    what: str, seconds: float, max_seconds: float, *, status: int = 400, code: str = "audio_too_long"
) -> PersonaError:
    """Audio over a duration limit: the English text and the params the page words it with
    (``minutes`` it lasts, ``max_minutes`` allowed), the same from every place that checks."""
    return PersonaError(
        code,
        f"{what}; the limit is {_fmt_duration(max_seconds)}",
        status=status,
        params=duration_params(seconds, max_seconds),
    )


def _fmt_duration(seconds: float) -> str:
    seconds = max(0.0, float(seconds))
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _check_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.is_file():
        raise PersonaError("audio_unreadable", f"{_name(p)} does not exist or is not a file", status=404)
    if p.stat().st_size == 0:
        raise _empty(p)
    return p


# --------------------------------------------------------------------------------------- probing


def _probe_soundfile(path: Path) -> AudioInfo | None:
    try:
        info = sf.info(str(path))
    except Exception:  # libsndfile raises several types for foreign data; PyAV gets a try next
        return None
    if info.samplerate <= 0 or info.channels <= 0:
        return None
    frames = int(info.frames)
    return AudioInfo(
        duration_s=frames / float(info.samplerate),
        sample_rate=int(info.samplerate),
        channels=int(info.channels),
        format=str(info.format).lower(),
        frames=frames,
        backend="soundfile",
    )


def _av_audio_stream(container):
    for stream in container.streams:
        if stream.type == "audio":
            return stream
    return None


def _probe_av(path: Path) -> AudioInfo:
    import av

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except Exception as exc:  # FFmpeg errors for garbage input come in many subclasses
        raise _unreadable(path) from exc
    with container:
        stream = _av_audio_stream(container)
        if stream is None:
            raise _unreadable(path, "no audio stream")
        ctx = stream.codec_context
        rate = int(ctx.sample_rate or stream.rate or 0)
        channels = int(ctx.channels or 0)
        if rate <= 0 or channels <= 0:
            raise _unreadable(path, "no sample rate or channel count in the header")
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000.0  # AV_TIME_BASE
        codec = (ctx.name or "").replace("float", "").replace("mp3adu", "mp3") or "unknown"
        return AudioInfo(
            duration_s=float(duration) if duration is not None else float("nan"),
            sample_rate=rate,
            channels=channels,
            format=codec,
            frames=None,
            backend="av",
        )


def _probe(p: Path) -> AudioInfo:
    info = _probe_soundfile(p)
    if info is None:
        return _probe_av(p)
    if info.frames == 0 and p.stat().st_size > 4096:
        # A header saying "no samples" in front of data (a recorder that never finalised its
        # WAV header): FFmpeg reads such streams, libsndfile does not.
        try:
            return _probe_av(p)
        except PersonaError:
            pass
    return info


def probe_audio(path: str | os.PathLike[str]) -> AudioInfo:
    """Read the header only: duration, rate, channels, format. For upload validation.

    Raises ``audio_unreadable`` for non-audio and ``audio_empty`` for zero-length audio. The
    duration may be NaN for streams whose header carries none (rare raw streams).
    """
    p = _check_path(path)
    info = _probe(p)
    if info.frames == 0 or info.duration_s == 0:
        raise _empty(p)
    return info


# -------------------------------------------------------------------------------------- decoding


_BLOCK = 1 << 20  # frames per read when downmixing on the fly


def _decode_soundfile(path: Path, mono: bool = False) -> tuple[np.ndarray, int] | None:
    """(channels, n) float32, or (1, n) already averaged when ``mono`` (reads in blocks, so a
    long multichannel file never sits in memory at full width)."""
    try:
        with sf.SoundFile(str(path)) as f:
            sr = int(f.samplerate)
            if not mono or f.channels == 1:
                data = f.read(dtype="float32", always_2d=True)
                return np.ascontiguousarray(data.T), sr
            parts = []
            while True:
                block = f.read(_BLOCK, dtype="float32", always_2d=True)
                if block.shape[0] == 0:
                    break
                # NaN/inf must not leak through the average: mark them for _clean.
                parts.append(block.mean(axis=1, dtype=np.float32))
            data = np.concatenate(parts) if parts else np.zeros(0, np.float32)
            return data[None, :], sr
    except Exception:
        return None


def _decode_av(path: Path, max_seconds: float | None) -> tuple[np.ndarray, int]:
    import av

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except Exception as exc:
        raise _unreadable(path) from exc
    chunks: list[np.ndarray] = []
    bad_packets = 0
    with container:
        stream = _av_audio_stream(container)
        if stream is None:
            raise _unreadable(path, "no audio stream")
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        if rate <= 0:
            raise _unreadable(path, "no sample rate in the header")
        limit = None if max_seconds is None else int(max_seconds * rate) + rate
        resampler = av.AudioResampler(format="fltp", rate=rate)
        total = 0
        try:
            packets = container.demux(stream)
            for packet in packets:
                try:
                    frames = packet.decode()
                except Exception:  # one corrupt packet: skip it, as players do
                    bad_packets += 1
                    if bad_packets > 50 and not chunks:
                        break
                    continue
                for frame in frames:
                    for out in resampler.resample(frame):
                        arr = out.to_ndarray()
                        chunks.append(arr)
                        total += arr.shape[-1]
                if limit is not None and total > limit:
                    raise _too_long(path, total / rate, max_seconds or 0.0)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
        except PersonaError:
            raise
        except Exception as exc:
            if not chunks:
                raise _unreadable(path) from exc
            log.warning("%s: decoding stopped early: %s", path, exc)
    if bad_packets:
        log.warning("%s: skipped %d undecodable packets", path, bad_packets)
    if not chunks:
        raise _empty(path)
    channels = max(c.shape[0] for c in chunks)
    chunks = [c for c in chunks if c.shape[0] == channels]  # a mid-stream layout change: keep the main one
    return np.ascontiguousarray(np.concatenate(chunks, axis=1), dtype=np.float32), rate


def _clean(audio: np.ndarray, path: Path) -> np.ndarray:
    """Zero NaN/inf (refuse if there are many), scale down when the peak exceeds 1."""
    finite = np.isfinite(audio)
    if not finite.all():
        bad = audio.size - int(finite.sum())
        if bad > _MAX_NONFINITE_FRACTION * audio.size:
            raise _unreadable(path, f"{bad} of {audio.size} samples are not numbers")
        log.warning("%s: zeroed %d NaN/inf samples", path, bad)
        audio = np.where(finite, audio, 0.0).astype(np.float32)
    peak = max(float(audio.max()), -float(audio.min())) if audio.size else 0.0
    if peak > 1.0:
        audio = audio / np.float32(peak)
    return audio.astype(np.float32, copy=False)


def load_audio(
    path: str | os.PathLike[str],
    *,
    sr: int | None = None,
    mono: bool = True,
    max_seconds: float | None = None,
) -> tuple[np.ndarray, int]:
    """Decode ``path`` to float32 in [-1, 1].

    Returns ``(audio, rate)``: ``audio`` has shape (n,) when ``mono`` (channels averaged) or
    (channels, n) otherwise; resampled to ``sr`` when given (soxr HQ), else the file's own rate.
    Raises PersonaError ``audio_unreadable``, ``audio_empty`` or ``audio_too_long`` (checked from
    the header before decoding).
    """
    p = _check_path(path)
    info = _probe(p)
    if info.frames == 0 or info.duration_s == 0:
        raise _empty(p)
    if max_seconds is not None and np.isfinite(info.duration_s) and info.duration_s > max_seconds:
        raise _too_long(p, info.duration_s, max_seconds)

    decoded = _decode_soundfile(p, mono) if info.backend == "soundfile" else None
    if decoded is None:
        decoded = _decode_av(p, max_seconds)
    audio, rate = decoded
    if audio.shape[-1] == 0:
        raise _empty(p)
    if max_seconds is not None and audio.shape[-1] / rate > max_seconds:
        raise _too_long(p, audio.shape[-1] / rate, max_seconds)

    audio = _clean(audio, p)
    if mono:
        audio = audio.mean(axis=0) if audio.shape[0] > 1 else audio[0]
    if sr is not None and int(sr) != rate:
        audio = resample(audio, rate, int(sr))
        rate = int(sr)
        # Resampling can overshoot by a hair at a full-scale edge.
        np.clip(audio, -1.0, 1.0, out=audio)
    return np.ascontiguousarray(audio, dtype=np.float32), rate


def ensure_not_silent(audio: np.ndarray, what: str = "audio", *, threshold: float = SILENCE_PEAK) -> None:
    """Raise ``audio_silent`` when the peak of ``audio`` is below ``threshold`` (-60 dBFS)."""
    audio = np.asarray(audio)
    if audio.size == 0:
        raise PersonaError("audio_empty", f"{what} contains no audio (zero length)")
    finite = np.abs(audio[np.isfinite(audio)])
    peak = float(finite.max()) if finite.size else 0.0
    if peak < threshold:
        level = "digital silence" if peak == 0 else f"peak {20 * np.log10(peak):.0f} dBFS"
        raise PersonaError("audio_silent", f"{what} is silent ({level}); nothing to work with")


# -------------------------------------------------------------------------------------- encoding


def _as_channels_first(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"expected audio of shape (n,) or (channels, n), got {a.shape}")
    if a.shape[0] > 64 and a.shape[1] <= 64:  # (n, channels) given by mistake
        raise ValueError(f"audio looks like (n, channels) {a.shape}; pass (channels, n)")
    return np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)


def _resolve_format(path: Path, format: str | None) -> str:
    fmt = (format or _SUFFIX_FORMAT.get(path.suffix.lower(), "")).lower()
    fmt = {"pcm16": "wav16", "wav_pcm16": "wav16", "wav_float": "wav"}.get(fmt, fmt)
    if fmt not in SAVE_FORMATS:
        raise PersonaError(
            "format_invalid", f"cannot write {path.suffix or format!r}; use one of {', '.join(SAVE_FORMATS)}"
        )
    return fmt


def write_sf(path: str | os.PathLike[str], data: np.ndarray, sr: int, format: str, subtype: str) -> None:
    """Write (channels, n) with libsndfile in blocks: libsndfile 1.2's Vorbis encoder crashes
    (segfault) when handed a minute of audio in one call; blocks are safe for every format."""
    with sf.SoundFile(str(path), "w", sr, data.shape[0], format=format, subtype=subtype) as f:
        for start in range(0, data.shape[1], 16384):
            f.write(np.ascontiguousarray(data[:, start : start + 16384].T))


def _mp3_rate(sr: int) -> int:
    if sr in _MP3_RATES:
        return sr
    return 48000 if sr > 44100 else 44100


def _write_mp3_av(target: Path, audio: np.ndarray, sr: int) -> None:
    import av

    layout = "mono" if audio.shape[0] == 1 else "stereo"
    with av.open(str(target), mode="w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=sr, layout=layout)
        stream.bit_rate = 320_000 if layout == "stereo" else 192_000
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio), format="fltp", layout=layout)
        frame.sample_rate = sr
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def save_audio(
    path: str | os.PathLike[str],
    audio: np.ndarray,
    sr: int,
    *,
    format: str | None = None,
    seal: Callable[[Path], Any] | None = None,
) -> Path:
    """Write ``audio`` ((n,) or (channels, n), float) to ``path`` atomically and return the path.

    ``format``: ``wav`` (float32), ``wav16`` (PCM 16-bit), ``flac`` (24-bit) or ``mp3`` (320 kbit/s;
    rates mp3 cannot carry, e.g. 40 kHz, are resampled to 44.1/48 kHz; more than two channels
    are averaged). Default: from the suffix (.wav = float32).
    """
    target = Path(path)
    fmt = _resolve_format(target, format)
    data = _as_channels_first(audio)
    sr = int(sr)
    if fmt != "wav":
        np.clip(data, -1.0, 1.0, out=data)
    with atomic_path(target) as tmp:
        if fmt == "wav":
            write_sf(tmp, data, sr, "WAV", "FLOAT")
        elif fmt == "wav16":
            write_sf(tmp, data, sr, "WAV", "PCM_16")
        elif fmt == "flac":
            write_sf(tmp, data, sr, "FLAC", "PCM_24")
        else:
            if data.shape[0] > 2:
                data = data.mean(axis=0, keepdims=True)
            rate = _mp3_rate(sr)
            if rate != sr:
                data = np.clip(resample(data, sr, rate), -1.0, 1.0)
            try:
                _write_mp3_av(tmp, data, rate)
            except Exception as exc:  # PyAV without LAME: libsndfile has its own mp3 encoder
                log.debug("PyAV mp3 encode failed (%s); using soundfile", exc)
                write_sf(tmp, data, rate, "MP3", "MPEG_LAYER_III")
        if seal is not None:  # content credentials, before the file appears under its name
            seal(tmp)
    return target
