"""Mix stems into the finished cover, block by block, loudness-normalised and true-peak safe.

Owns the cover's final sound: per-stem gain in dB and per-stem effects, equal lengths (every stem
padded or trimmed to the song's length), stereo output at the song's rate, integrated loudness
normalised to a target (ITU-R BS.1770-4, -14 LUFS by default, see ``loudness.py``) and a true-peak
ceiling (-1 dBTP by default) held by a 4x-oversampled lookahead limiter, then encoded to wav
(PCM 24-bit), mp3 (320 kbit/s CBR), flac, ogg (Opus) or m4a (AAC) by ``encode.BlockWriter``.

``Finisher`` is the last step every sample of a cover passes before it is written: the
finished file's here, and a progressive cover's playable pieces (``persona.audio.preview``).

Two passes over the stems on disk, so memory does not grow with the song: pass 1 sums and
processes the stems into a float premix while measuring loudness and true peak; pass 2 applies
the normalising gain (and the limiter only if the gained peak would pass the ceiling) and
encodes. The output file appears atomically; cancelling leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import pedalboard
import soundfile as sf

from persona.audio.effects import Aligner, StreamingEffect, limiter
from persona.audio.encode import FORMATS, BlockWriter
from persona.audio.loudness import LoudnessMeter, db_to_gain, gain_to_db, true_peak
from persona.errors import PersonaError
from persona.fsutil import atomic_path
from persona.interrupt import outside
from persona.messages import msg
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress

OUTPUT_FORMATS = FORMATS  # wav, mp3, flac, ogg (Opus), m4a (AAC): audio/encode.py
BLOCK = 65536  # samples per processing block (~1.5 s at 44.1 kHz)
# The limiter's ceiling sits below the true-peak target: its oversampled sidechain reduces but
# does not remove inter-sample overshoot (pedalboard's documentation advises this margin).
_LIMITER_MARGIN_DB = 0.5


class BlockStage(Protocol):
    """A stage that takes (2, n) blocks and gives them back, maybe later (``flush`` at the end)."""

    def process(self, block: np.ndarray) -> np.ndarray: ...

    def flush(self) -> np.ndarray: ...


@dataclasses.dataclass
class MixStem:
    """One input of the mix: a float audio file at the mix rate, mono or stereo."""

    path: Path
    gain_db: float = 0.0
    effects: Sequence[pedalboard.Plugin] = ()
    name: str = ""


@dataclasses.dataclass(frozen=True)
class MixReport:
    path: Path
    sr: int
    frames: int
    loudness_lufs: float  # measured on the output
    true_peak_db: float  # measured on the output (4x oversampled)
    gain_db: float  # normalising gain applied after the stems were summed
    limited: bool  # whether the limiter ran

    @property
    def duration(self) -> float:
        return self.frames / self.sr


class _StemReader:
    """Reads a stem in blocks as (2, n) float32, zero-padded past its end, through its effects."""

    def __init__(self, stem: MixStem, sr: int) -> None:
        self.file = sf.SoundFile(str(stem.path))
        if self.file.samplerate != sr:
            self.file.close()
            raise ValueError(f"stem {stem.path} is at {self.file.samplerate} Hz, the mix at {sr} Hz")
        self.gain = db_to_gain(stem.gain_db)
        self.effect = StreamingEffect(stem.effects, sr, 2)
        self.aligner = Aligner(2)
        self.flushed = False

    def _raw(self, n: int) -> np.ndarray:
        data = self.file.read(n, dtype="float32", always_2d=True).T
        if data.shape[0] == 1:
            data = np.repeat(data, 2, axis=0)
        elif data.shape[0] > 2:
            data = data[:2]
        if data.shape[1] < n:
            data = np.pad(data, ((0, 0), (0, n - data.shape[1])))
        return data

    def read(self, n: int) -> np.ndarray:
        if not self.effect.active:
            return self._raw(n) * self.gain
        while self.aligner.available() < n:
            self.aligner.push(self.effect.process(self._raw(n) * self.gain))
        return self.aligner.pop(n)

    def close(self) -> None:
        self.file.close()


def _prerender_pitch_shift(stem: MixStem, sr: int, path: Path) -> MixStem:
    """Run a stem with a pitch shift through its effects in one call.

    Rubber Band in pedalboard's streaming mode (``reset=False``) comes out ~0.1 s early against
    the input (measured), while a single call is aligned; so the one effect that needs it sees
    the whole stem at once. This is the only place the mixer holds a whole stem in memory, and
    only in "whole song" key mode.
    """
    if not any(isinstance(p, pedalboard.PitchShift) for p in stem.effects):
        return stem
    data, file_sr = sf.read(str(stem.path), dtype="float32", always_2d=True)
    if file_sr != sr:
        raise ValueError(f"stem {stem.path} is at {file_sr} Hz, the mix at {sr} Hz")
    board, channels_first = pedalboard.Pedalboard(list(stem.effects)), np.ascontiguousarray(data.T)
    del data
    out = outside(lambda: board(channels_first, sr), None)  # seconds for a song: a Stop does not wait
    sf.write(str(path), out.T, sr, subtype="FLOAT")
    return MixStem(path, stem.gain_db, (), stem.name)


class Finisher:
    """The watermark (``mark``, when given), the gain, the true-peak limiter (only when the gained
    peak would pass the ceiling) and a safety clip, streaming; measures the loudness and true peak
    of what it gives out.

    The one place a cover's output samples are finished: the finished file and a progressive
    cover's playable pieces (``persona.audio.preview``) both go through it."""

    def __init__(
        self,
        sr: int,
        gain: float,
        limited: bool,
        ceiling_dbtp: float = -1.0,
        mark: BlockStage | None = None,
    ) -> None:
        self.sr = sr
        self.mark = mark
        self.gain = float(gain)
        self.limited = bool(limited)
        self.ceiling = db_to_gain(ceiling_dbtp)
        plugins = [limiter(ceiling_dbtp - _LIMITER_MARGIN_DB)] if limited else []
        self._lim = StreamingEffect(plugins, sr, 2)
        self.meter = LoudnessMeter(sr, 2)
        self.peak = 0.0
        self.frames = 0

    @staticmethod
    def needs_limiter(peak: float, gain: float, ceiling_dbtp: float = -1.0) -> bool:
        return peak * gain > db_to_gain(ceiling_dbtp - _LIMITER_MARGIN_DB)

    def process(self, block: np.ndarray) -> np.ndarray:
        """Feed (2, n); returns the finished samples ready so far (the mark and the limiter lag)."""
        if self.mark is not None:
            block = self.mark.process(block)  # comes back later, in chunks
        if not block.shape[1]:
            return np.zeros((2, 0), np.float32)
        return self._finish(self._lim.process(block * np.float32(self.gain)))

    def flush(self) -> np.ndarray:
        out = []
        tail = self.mark.flush() if self.mark is not None else None
        if tail is not None and tail.shape[1]:
            out.append(self._finish(self._lim.process(tail * np.float32(self.gain))))
        out.append(self._finish(self._lim.flush()))
        return np.concatenate(out, axis=1)

    def _finish(self, block: np.ndarray) -> np.ndarray:
        if not block.shape[1]:
            return block
        # Safety net: the limiter holds the ceiling; this only guards against rare inter-sample
        # overshoot ever reaching digital full scale.
        block = np.clip(block, -self.ceiling, self.ceiling)
        self.meter.add(block)
        self.peak = max(self.peak, true_peak(block))
        self.frames += block.shape[1]
        return block


def mix_to_file(
    stems: Sequence[MixStem],
    output: str | Path,
    *,
    sr: int,
    frames: int,
    format: str = "wav",
    target_lufs: float | None = -14.0,
    ceiling_dbtp: float = -1.0,
    workdir: str | Path | None = None,
    progress: ProgressFn = null_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    mark: BlockStage | None = None,
    seal: Callable[[Path], None] | None = None,
) -> MixReport:
    """Sum ``stems`` (each with its gain and effects) into a stereo file of exactly ``frames``.

    ``target_lufs=None`` skips loudness normalisation (the ceiling still holds). ``mark`` (the
    watermark, ``persona.provenance.new_marker``) runs on the premix before the normalising gain
    and the limiter; ``seal(path)`` (content credentials) runs on the finished file before it
    appears under its name, so no unsealed cover is ever visible.
    """
    format = format.lower()
    if format not in OUTPUT_FORMATS:
        raise PersonaError("format_invalid", f"output format must be one of {', '.join(OUTPUT_FORMATS)}")
    if not stems:
        raise ValueError("nothing to mix")
    if frames <= 0:
        raise PersonaError("audio_empty", "the song has no audio to mix")
    output = Path(output)
    with tempfile.TemporaryDirectory(prefix="persona-mix-", dir=workdir) as tmp:
        premix_path = Path(tmp) / "premix.wav"
        stems = [_prerender_pitch_shift(s, sr, Path(tmp) / f"shifted{i}.wav") for i, s in enumerate(stems)]
        meter = LoudnessMeter(sr, 2)
        peak = 0.0
        readers = [_StemReader(s, sr) for s in stems]
        try:
            with sf.SoundFile(str(premix_path), "w", sr, 2, subtype="FLOAT") as premix:
                done = 0
                while done < frames:
                    cancel.check()
                    n = min(BLOCK, frames - done)
                    block = np.zeros((2, n), np.float32)
                    for r in readers:
                        block += r.read(n)
                    meter.add(block)
                    peak = max(peak, true_peak(block))
                    premix.write(block.T)
                    done += n
                    progress("mix", 0.5 * done / frames, msg("mix_stems"))
        finally:
            for r in readers:
                r.close()

        loudness = meter.integrated()
        gain = 1.0
        if target_lufs is not None and np.isfinite(loudness):
            gain = db_to_gain(target_lufs - loudness)
        limited = Finisher.needs_limiter(peak, gain, ceiling_dbtp)
        finisher = Finisher(sr, gain, limited, ceiling_dbtp, mark)
        with atomic_path(output) as tmp_out:
            writer = BlockWriter(tmp_out, sr, 2, format)  # every output format: encode.py
            with writer, sf.SoundFile(str(premix_path)) as premix:
                while True:
                    cancel.check()
                    data = premix.read(BLOCK, dtype="float32", always_2d=True).T
                    if not data.shape[1]:
                        break
                    writer.write(finisher.process(data).T)
                    progress("mix", 0.5 + 0.5 * min(finisher.frames, frames) / frames, msg("mix_loudness"))
                writer.write(finisher.flush().T)
            if seal is not None:
                seal(tmp_out)
        return MixReport(
            path=output,
            sr=sr,
            frames=finisher.frames,
            loudness_lufs=finisher.meter.integrated(),
            true_peak_db=gain_to_db(finisher.peak),
            gain_db=gain_to_db(gain),
            limited=finisher.limited,
        )
