"""Writing audio files: the one place each output format is encoded.

The formats a person can choose for a cover or converted vocals, as Applio and rvc-next offer:

========  =============================================  ===========================
format    codec                                          rates
========  =============================================  ===========================
``wav``   PCM (float32 or 16/24-bit), libsndfile         any
``flac``  FLAC 24-bit, libsndfile                        any
``mp3``   MP3 320 kbit/s (LAME, through PyAV's FFmpeg;   44.1 / 48 kHz (resampled)
          libsndfile's own encoder as fallback)
``ogg``   Opus 192 kbit/s in Ogg (PyAV's libopus)        48 kHz (Opus's own rate)
``m4a``   AAC-LC 256 kbit/s in MP4 (PyAV's FFmpeg aac)   44.1 / 48 kHz (resampled)
========  =============================================  ===========================

``write_array`` writes a whole array, ``BlockWriter`` a stream of blocks (the mixer): formats
libsndfile can write block by block go straight to the file; Opus and AAC are encoded from a
float wav beside it when the writer closes. Player-visible tags and content credentials are
added afterwards on the finished file by the caller's ``seal`` (``persona.provenance``), the
same for every format. Callers write to a temporary path and rename (``fsutil.atomic_path``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

import numpy as np
import soundfile as sf

from persona.errors import PersonaError

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Encoding:
    name: str
    suffix: str
    mime: str
    label: str  # what a person calls it


ENCODINGS: dict[str, Encoding] = {
    "wav": Encoding("wav", ".wav", "audio/wav", "WAV"),
    "mp3": Encoding("mp3", ".mp3", "audio/mpeg", "MP3"),
    "flac": Encoding("flac", ".flac", "audio/flac", "FLAC"),
    "ogg": Encoding("ogg", ".ogg", "audio/ogg", "OGG (Opus)"),
    "m4a": Encoding("m4a", ".m4a", "audio/mp4", "M4A (AAC)"),
}
FORMATS = tuple(ENCODINGS)
SUFFIX_FORMAT = {e.suffix: e.name for e in ENCODINGS.values()} | {".opus": "ogg", ".aac": "m4a"}
# MPEG-1/2/2.5 layer III sample rates; anything else is resampled before encoding.
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_AAC_RATES = (44100, 48000)
_OPUS_RATE = 48000
_BLOCK = 16384


def check_format(fmt: str) -> str:
    """``fmt`` lower-cased, or ``format_invalid`` naming the formats there are."""
    name = str(fmt or "").lower()
    if name not in ENCODINGS:
        raise PersonaError(
            "format_invalid",
            f"cannot write {fmt!r}; use one of {', '.join(FORMATS)}",
            params={"formats": ", ".join(FORMATS)},
        )
    return name


def write_sf(path: str | os.PathLike[str], data: np.ndarray, sr: int, format: str, subtype: str) -> None:
    """Write (channels, n) with libsndfile in blocks: libsndfile 1.2's Vorbis encoder crashes
    (segfault) when handed a minute of audio in one call; blocks are safe for every format."""
    with sf.SoundFile(str(path), "w", sr, data.shape[0], format=format, subtype=subtype) as f:
        for start in range(0, data.shape[1], _BLOCK):
            f.write(np.ascontiguousarray(data[:, start : start + _BLOCK].T))


def _rate_for(fmt: str, sr: int) -> int:
    if fmt == "ogg":
        return _OPUS_RATE
    allowed = _MP3_RATES if fmt == "mp3" else _AAC_RATES if fmt == "m4a" else None
    if allowed is None or sr in allowed:
        return sr
    return 48000 if sr > 44100 else 44100


def _write_av(target: Path, audio: np.ndarray, sr: int, fmt: str) -> None:
    """MP3 (LAME), Opus in Ogg or AAC in MP4 through PyAV; ``audio`` is (channels <= 2, n) at ``sr``."""
    import av

    codec, container, bit_rate = {
        "mp3": ("libmp3lame", "mp3", 320_000),
        "ogg": ("libopus", "ogg", 192_000),
        "m4a": ("aac", "mp4", 256_000),
    }[fmt]
    layout = "mono" if audio.shape[0] == 1 else "stereo"
    with av.open(str(target), mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=sr, layout=layout)
        stream.bit_rate = bit_rate if layout == "stereo" else bit_rate * 3 // 5
        # encoders with a fixed frame size (AAC 1024, Opus 960) are fed through the resampler's
        # frame-sized output; PyAV's encode() buffers partial frames itself
        for start in range(0, audio.shape[1], 48000):
            part = np.ascontiguousarray(audio[:, start : start + 48000])
            frame = av.AudioFrame.from_ndarray(part, format="fltp", layout=layout)
            frame.sample_rate = sr
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def write_array(
    path: str | os.PathLike[str], audio: np.ndarray, sr: int, fmt: str, *, wav_subtype: str = "FLOAT"
) -> int:
    """Encode (channels, n) float audio into ``path`` as ``fmt``; returns the file's sample rate.

    Lossy formats get at most two channels (more are averaged) and a rate they can carry
    (resampled, see the table above); samples are clipped to [-1, 1] except in a float wav."""
    from persona.audio.resample import resample

    fmt = check_format(fmt)
    data = np.asarray(audio, dtype=np.float32)
    data = data[None, :] if data.ndim == 1 else data
    if not (fmt == "wav" and wav_subtype == "FLOAT"):
        data = np.clip(data, -1.0, 1.0)
    if fmt == "wav":
        write_sf(path, data, sr, "WAV", wav_subtype)
        return sr
    if fmt == "flac":
        write_sf(path, data, sr, "FLAC", "PCM_24")
        return sr
    if data.shape[0] > 2:
        data = data.mean(axis=0, keepdims=True)
    rate = _rate_for(fmt, sr)
    if rate != sr:
        data = np.clip(resample(data, sr, rate), -1.0, 1.0).astype(np.float32)
    try:
        _write_av(Path(path), data, rate, fmt)
    except Exception as exc:
        if fmt != "mp3":
            raise
        log.debug("PyAV mp3 encode failed (%s); using soundfile", exc)  # PyAV without LAME
        write_sf(path, data, rate, "MP3", "MPEG_LAYER_III")
    return rate


class BlockWriter:
    """Write (n, channels) blocks into ``path`` as ``fmt``; ``close()`` finishes the file.

    wav (PCM 24-bit), flac and mp3 are written as the blocks come; Opus and AAC need whole
    frames at their own rates, so the blocks go to a float wav beside ``path`` and are encoded
    from it on close (the float wav is removed)."""

    def __init__(self, path: str | os.PathLike[str], sr: int, channels: int, fmt: str) -> None:
        self.path, self.sr, self.fmt = Path(path), int(sr), check_format(fmt)
        self._staging: Path | None = None
        if self.fmt == "wav":
            self._file = sf.SoundFile(str(self.path), "w", sr, channels, format="WAV", subtype="PCM_24")
        elif self.fmt == "flac":
            self._file = sf.SoundFile(str(self.path), "w", sr, channels, format="FLAC", subtype="PCM_24")
        elif self.fmt == "mp3":
            self._file = sf.SoundFile(
                str(self.path),
                "w",
                sr,
                channels,
                format="MP3",
                compression_level=0.0,
                bitrate_mode="CONSTANT",
            )
        else:
            self._staging = self.path.with_name(self.path.name + ".pcm.wav")
            self._file = sf.SoundFile(str(self._staging), "w", sr, channels, format="WAV", subtype="FLOAT")

    def write(self, block: np.ndarray) -> None:
        self._file.write(block)

    def close(self) -> None:
        self._file.close()
        if self._staging is None:
            return
        try:
            data, sr = sf.read(str(self._staging), dtype="float32", always_2d=True)
            write_array(self.path, data.T, sr, self.fmt)
        finally:
            self._staging.unlink(missing_ok=True)

    def __enter__(self) -> BlockWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        else:
            self._file.close()
            if self._staging is not None:
                self._staging.unlink(missing_ok=True)
