"""A progressive cover's playable part: the pieces made so far, mixed and finished, as 16-bit PCM.

``PreviewMixer`` takes each stem's newly ready span (any block sizes, in order), runs it through
the stem's gain and effects as the finished mix does (the same streaming chains, so a compressor
or a reverb carries across piece boundaries), sums the stems and finishes the sum through
``persona.audio.mix.Finisher``, the same last step as the finished file, with a gain fixed at the
start (the finished file's gain needs the whole song's loudness; the preview takes the original
song's), the limiter always on and the same watermark (``mark``) as the finished file. Key shifts (Rubber Band) run per block in one call with 1 s of
the stem's preceding audio as context: its streaming mode comes out ~0.1 s early.

The output is raw interleaved little-endian int16 appended to one file, flushed after every span,
so ``frames`` of it can be served while more is added; ``persona.audio.wavhead.wav_header`` makes
the header the server puts before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pedalboard

from persona.audio.effects import Aligner, StreamingEffect
from persona.audio.loudness import db_to_gain
from persona.audio.mix import BlockStage, Finisher, MixStem
from persona.audio.wavhead import PREVIEW_CHANNELS as CHANNELS

SHIFT_CONTEXT_S = 1.0


class _Shifted:
    """A stem whose effects include a key shift: each block in one call, with preceding context."""

    def __init__(self, effects: Sequence[pedalboard.Plugin], sr: int) -> None:
        self.board = pedalboard.Pedalboard(list(effects))
        self.sr = sr
        self.context = np.zeros((CHANNELS, 0), np.float32)

    def process(self, block: np.ndarray) -> np.ndarray:
        data = np.concatenate([self.context, block], axis=1)
        out = self.board(np.ascontiguousarray(data), self.sr, reset=True)
        self.context = data[:, -int(SHIFT_CONTEXT_S * self.sr) :]
        return np.asarray(out[:, data.shape[1] - block.shape[1] :], np.float32)


class _Stem:
    def __init__(self, stem: MixStem, sr: int) -> None:
        self.gain = np.float32(db_to_gain(stem.gain_db))
        shifts = any(isinstance(p, pedalboard.PitchShift) for p in stem.effects)
        self.effect = _Shifted(stem.effects, sr) if shifts else StreamingEffect(stem.effects, sr, CHANNELS)
        self.ready = Aligner(CHANNELS)

    def add(self, block: np.ndarray) -> None:
        block = np.asarray(block, np.float32)
        if block.ndim == 1:
            block = np.stack([block, block])
        self.ready.push(self.effect.process(block[:CHANNELS] * self.gain))


class PreviewMixer:
    """Mixes stems span by span into a growing s16le file; ``frames`` of it are ready."""

    def __init__(
        self,
        path: str | Path,
        stems: Sequence[MixStem],
        sr: int,
        gain: float,
        ceiling_dbtp: float = -1.0,
        mark: BlockStage | None = None,
    ) -> None:
        self.path = Path(path)
        self.sr = sr
        self.stems = {s.name: _Stem(s, sr) for s in stems}
        self.finisher = Finisher(sr, gain, True, ceiling_dbtp, mark)  # watermarked as the finished file
        self.path.write_bytes(b"")

    @property
    def frames(self) -> int:
        return self.finisher.frames

    def add(self, name: str, block: np.ndarray) -> None:
        """The next span of stem ``name`` ((2, n) or mono (n,), at the song's rate)."""
        self.stems[name].add(block)

    def mix(self, flush: bool = False) -> int:
        """Mix what every stem has ready and append it; returns the frames ready in the file."""
        n = min(s.ready.available() for s in self.stems.values())
        out = np.zeros((CHANNELS, n), np.float32)
        for s in self.stems.values():
            if n:
                out += s.ready.pop(n)
        finished = self.finisher.process(out) if n else np.zeros((CHANNELS, 0), np.float32)
        if flush:
            finished = np.concatenate([finished, self.finisher.flush()], axis=1)
        if finished.shape[1]:
            pcm = np.round(np.clip(finished.T, -1.0, 1.0) * 32767.0).astype("<i2")
            with open(self.path, "ab") as f:
                f.write(pcm.tobytes())
        return self.frames
