"""Decode and encode audio files: the one door through which audio enters and leaves Persona.

Decoding: libsndfile (``soundfile``) first, for wav (8/16/24/32-bit int, float32/64), flac, ogg
and mp3; PyAV (bundled FFmpeg) for what libsndfile cannot read (m4a/aac, opus in mp4, wma, ...).
The duration and the density (channels x rate x duration, ``check_density``) are read from the
header and checked before any sample is decoded; decoding, down-mixing and resampling then go
block by block into one output buffer, so memory is the output plus one block whatever the
file's width and rate. Samples come back as float32 in [-1, 1] (a file whose peak exceeds 1,
e.g. a hot float wav or an overshooting mp3, is scaled down by its peak as RVC's pipeline does);
NaN/inf samples are zeroed, and a file that is mostly NaN/inf is refused.

Encoding (encode.py, the one place): wav (float32 or PCM16), flac, mp3, ogg (Opus), m4a (AAC).
Every output appears atomically.

Every failure a user can cause is a PersonaError: ``audio_unreadable``, ``audio_empty``,
``audio_too_long``, ``audio_too_dense``, ``audio_silent``.
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

from persona import interrupt
from persona.audio.encode import ENCODINGS, SUFFIX_FORMAT, write_array
from persona.audio.resample import resampled_length
from persona.errors import PersonaError, duration_params
from persona.fsutil import atomic_path

log = logging.getLogger(__name__)

# Formats save_audio writes; the suffix picks one when ``format`` is not given.
SAVE_FORMATS = ("wav", "wav16", *(f for f in ENCODINGS if f != "wav"))  # wav16: PCM 16-bit
_SUFFIX_FORMAT = SUFFIX_FORMAT
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


_BLOCK_BYTES = 8 << 20  # decoded input per block, whatever the channel count and rate
MAX_CHANNELS = 32
MAX_RATE = 384_000
MAX_DENSE_RATE = 96_000  # the density budget: ``max_seconds`` of 96 kHz stereo


class _Collector:
    """Takes decoded blocks ((channels, k) float32 at the file's rate) one at a time: zeroes
    NaN/inf (counting them), tracks the peak, down-mixes (``mono``) or keeps ``max_channels``,
    resamples to ``sr`` with a streaming soxr filter (the same samples as one call over the whole
    signal) and writes into one output buffer sized from the header. Peak memory is the output
    plus one block, never the file's full width and rate (issue 24: an 8-channel 384 kHz file)."""

    def __init__(
        self, path: Path, rate: int, *, mono: bool, max_channels: int | None, sr: int | None, frames_hint: int
    ) -> None:
        self.path, self.rate, self.mono, self.max_channels = path, rate, mono, max_channels
        self.sr = int(sr) if sr is not None and int(sr) != rate else None
        self.channels: int | None = None  # the input's, fixed by the first block
        self.frames_in = self.bad = self.total = 0
        self.peak = 0.0
        self._hint = max(1, frames_hint)
        self._out: np.ndarray | None = None
        self._n = 0
        self._stream: Any = None

    @staticmethod
    def block_frames(channels: int) -> int:
        return max(4096, _BLOCK_BYTES // (4 * max(1, channels)))

    def add(self, block: np.ndarray) -> None:
        interrupt.check()  # a Stop while a long song decodes (inside a job's stoppable region)
        block = np.asarray(block, dtype=np.float32)
        if self.channels is None:
            self.channels = block.shape[0]
        elif block.shape[0] != self.channels:
            return  # a mid-stream layout change: keep the main one
        finite = np.isfinite(block)
        if not finite.all():
            self.bad += block.size - int(finite.sum())
            block = np.where(finite, block, np.float32(0.0))
        del finite
        self.total += block.size
        self.frames_in += block.shape[1]
        if block.size:
            self.peak = max(self.peak, float(block.max()), -float(block.min()))
        if self.mono and block.shape[0] > 1:
            block = block.mean(axis=0, keepdims=True, dtype=np.float32)
        elif self.max_channels is not None and block.shape[0] > self.max_channels:
            block = block[: self.max_channels]
        if self.sr is not None:
            if self._stream is None:
                import soxr

                self._stream = soxr.ResampleStream(
                    self.rate, self.sr, block.shape[0], dtype="float32", quality="HQ"
                )
            block = self._resampled(block, last=False)
        self._put(block)

    def _resampled(self, block: np.ndarray, *, last: bool) -> np.ndarray:
        data = block[0] if block.shape[0] == 1 else np.ascontiguousarray(block.T)
        out = np.asarray(self._stream.resample_chunk(data, last=last), dtype=np.float32)
        return out[None, :] if out.ndim == 1 else out.T

    def _put(self, block: np.ndarray) -> None:
        k = block.shape[1]
        if self._out is None:
            capacity = self._hint if self.sr is None else resampled_length(self._hint, self.rate, self.sr)
            self._out = np.empty((block.shape[0], capacity + 16), dtype=np.float32)
        if self._n + k > self._out.shape[1]:  # the header under-stated the length: grow by a quarter
            grown = np.empty((self._out.shape[0], max(self._n + k, self._out.shape[1] * 5 // 4)), np.float32)
            grown[:, : self._n] = self._out[:, : self._n]
            self._out = grown
        self._out[:, self._n : self._n + k] = block
        self._n += k

    def finish(self) -> tuple[np.ndarray, int]:
        """The output (channels, n) at ``sr`` (or the file's rate), cleaned: NaN/inf zeroed (a file
        with many is refused), scaled down by its peak when that exceeds 1."""
        if self._stream is not None and self._out is not None:
            self._put(self._resampled(np.zeros((self._out.shape[0], 0), np.float32), last=True))
        if self._out is None or self.frames_in == 0:
            raise _empty(self.path)
        if self.bad > _MAX_NONFINITE_FRACTION * self.total:
            raise _unreadable(self.path, f"{self.bad} of {self.total} samples are not numbers")
        if self.bad:
            log.warning("%s: zeroed %d NaN/inf samples", self.path, self.bad)
        rate = self.sr or self.rate
        n = self.frames_in if self.sr is None else resampled_length(self.frames_in, self.rate, self.sr)
        if self._n < n:  # soxr's flush can fall a sample short of librosa's length: zero-pad
            self._put(np.zeros((self._out.shape[0], n - self._n), np.float32))
        audio = self._out[:, :n]
        if self.peak > 1.0:
            audio /= np.float32(self.peak)
        if self.sr is not None:
            np.clip(audio, -1.0, 1.0, out=audio)  # resampling can overshoot by a hair at full scale
        return audio, rate


def _decode_soundfile(path: Path, sink: _Collector) -> bool:
    """Feed ``sink`` from libsndfile in blocks; False when libsndfile cannot read the file."""
    try:
        f = sf.SoundFile(str(path))
    except Exception:  # libsndfile raises several types for foreign data; PyAV gets a try next
        return False
    with f:
        step = sink.block_frames(f.channels)
        while True:
            try:
                block = f.read(step, dtype="float32", always_2d=True)
            except Exception:  # noqa: BLE001 - a corrupt stretch: keep what decoded
                if sink.frames_in == 0:
                    return False
                log.warning("%s: decoding stopped early", path)
                break
            if block.shape[0] == 0:
                break
            sink.add(block.T)
    return True


def _decode_av(path: Path, sink: _Collector, max_seconds: float | None) -> None:
    import av

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except Exception as exc:
        raise _unreadable(path) from exc
    bad_packets = 0
    with container:
        stream = _av_audio_stream(container)
        if stream is None:
            raise _unreadable(path, "no audio stream")
        rate = sink.rate
        limit = None if max_seconds is None else int(max_seconds * rate) + rate
        resampler = av.AudioResampler(format="fltp", rate=rate)
        try:
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except Exception:  # one corrupt packet: skip it, as players do
                    bad_packets += 1
                    if bad_packets > 50 and not sink.frames_in:
                        break
                    continue
                for frame in frames:
                    for out in resampler.resample(frame):
                        sink.add(out.to_ndarray())
                if limit is not None and sink.frames_in > limit:
                    raise _too_long(path, sink.frames_in / rate, max_seconds or 0.0)
            for out in resampler.resample(None):
                sink.add(out.to_ndarray())
        except PersonaError:
            raise
        except Exception as exc:
            if not sink.frames_in:
                raise _unreadable(path) from exc
            log.warning("%s: decoding stopped early: %s", path, exc)
    if bad_packets:
        log.warning("%s: skipped %d undecodable packets", path, bad_packets)


def check_density(info: AudioInfo, path: str | os.PathLike[str], max_seconds: float | None) -> None:
    """Refuse audio whose channels x rate x duration is more data than Persona decodes: at most
    as many samples as ``max_seconds`` of 96 kHz stereo (issue 24: a 2.4 MB FLAC of 5 minutes, 8
    channels at 384 kHz), and at most ``MAX_CHANNELS`` channels and ``MAX_RATE`` Hz on their own.
    ``audio_too_dense`` (413) naming the file, its channels, rate and duration."""
    duration = info.duration_s if np.isfinite(info.duration_s) else 0.0
    budget = (max_seconds or 0.0) * MAX_DENSE_RATE * 2
    samples = info.channels * info.sample_rate * duration
    if info.channels <= MAX_CHANNELS and info.sample_rate <= MAX_RATE and not (budget and samples > budget):
        return
    raise PersonaError(
        "audio_too_dense",
        f"{_name(Path(path))} has {info.channels} channels at {info.sample_rate} Hz for "
        f"{_fmt_duration(duration)}: more audio data than Persona decodes (at most {MAX_CHANNELS} "
        f"channels, {MAX_RATE // 1000} kHz, and the samples of {_fmt_duration(max_seconds or 0.0)} "
        f"of {MAX_DENSE_RATE // 1000} kHz stereo); convert it to stereo at 44.1 or 48 kHz",
        status=413,
        params={
            "file": _name(Path(path)),
            "channels": info.channels,
            "sample_rate": info.sample_rate,
            "duration_s": round(duration, 1),
            "max_channels": MAX_CHANNELS,
            "max_rate": MAX_RATE,
        },
    )


def load_audio(
    path: str | os.PathLike[str],
    *,
    sr: int | None = None,
    mono: bool = True,
    max_seconds: float | None = None,
    max_channels: int | None = None,
) -> tuple[np.ndarray, int]:
    """Decode ``path`` to float32 in [-1, 1].

    Returns ``(audio, rate)``: ``audio`` has shape (n,) when ``mono`` (channels averaged) or
    (channels, n) otherwise (the first ``max_channels`` when given); resampled to ``sr`` when
    given (soxr HQ), else the file's own rate. Decoding, down-mixing and resampling go block by
    block, so memory is the output plus one block. Raises PersonaError ``audio_unreadable``,
    ``audio_empty``, ``audio_too_long`` or ``audio_too_dense`` (checked from the header before
    decoding).
    """
    p = _check_path(path)
    info = _probe(p)
    if info.frames == 0 or info.duration_s == 0:
        raise _empty(p)
    if max_seconds is not None and np.isfinite(info.duration_s) and info.duration_s > max_seconds:
        raise _too_long(p, info.duration_s, max_seconds)
    check_density(info, p, max_seconds)
    seconds = info.duration_s if np.isfinite(info.duration_s) else 60.0
    hint = info.frames if info.frames else int(seconds * info.sample_rate)
    sink = _Collector(p, info.sample_rate, mono=mono, max_channels=max_channels, sr=sr, frames_hint=hint + 1)
    if info.backend != "soundfile" or not _decode_soundfile(p, sink):
        _decode_av(p, sink, max_seconds)
    if sink.frames_in == 0:
        raise _empty(p)
    if max_seconds is not None and sink.frames_in / sink.rate > max_seconds:
        raise _too_long(p, sink.frames_in / sink.rate, max_seconds)
    audio, rate = sink.finish()
    return (audio[0] if mono else audio), rate


def ensure_not_silent(audio: np.ndarray, what: str = "audio", *, threshold: float = SILENCE_PEAK) -> None:
    """Raise ``audio_silent`` when the peak of ``audio`` is below ``threshold`` (-60 dBFS)."""
    audio = np.asarray(audio)
    if audio.size == 0:
        raise PersonaError("audio_empty", f"{what} contains no audio (zero length)")
    # fmax/fmin skip NaN without copying the signal (a 20-minute song is 460 MB as float32)
    top, bottom = float(np.fmax.reduce(audio, axis=None)), float(np.fmin.reduce(audio, axis=None))
    if np.isfinite(top) and np.isfinite(bottom):
        peak = max(top, -bottom)
    else:  # infinities (or nothing but NaN): the peak of the finite samples
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


def save_audio(
    path: str | os.PathLike[str],
    audio: np.ndarray,
    sr: int,
    *,
    format: str | None = None,
    seal: Callable[[Path], Any] | None = None,
) -> Path:
    """Write ``audio`` ((n,) or (channels, n), float) to ``path`` atomically and return the path.

    ``format``: ``wav`` (float32), ``wav16`` (PCM 16-bit), or one of ``encode.FORMATS`` (flac 24-bit,
    mp3 320 kbit/s, ogg Opus, m4a AAC: rates a lossy codec cannot carry are resampled, more than
    two channels averaged; see ``encode.py``). Default: from the suffix (.wav = float32).
    """
    target = Path(path)
    fmt = _resolve_format(target, format)
    data = _as_channels_first(audio)
    sr = int(sr)
    if fmt != "wav":
        np.clip(data, -1.0, 1.0, out=data)
    with atomic_path(target) as tmp:
        # one encoder for every format (encode.py); wav16 is a 16-bit PCM wav
        write_array(
            tmp,
            data,
            sr,
            "wav" if fmt == "wav16" else fmt,
            wav_subtype="PCM_16" if fmt == "wav16" else "FLOAT",
        )
        if seal is not None:  # content credentials, before the file appears under its name
            seal(tmp)
    return target
