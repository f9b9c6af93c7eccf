"""Audio effects for the cover mix, run block by block (pedalboard / Rubber Band).

Owns: the vocal chain (light compression, optional reverb), the instrumental key shift and the
true-peak limiter. pedalboard plugins keep their state between ``process(..., reset=False)``
calls; plugins with latency (the lookahead limiter, Rubber Band's pitch shifter) hold samples
back, so ``StreamingEffect`` flushes them with silence at the end and trims the output to the
input's length. Measured: streaming output equals a single whole-buffer call, lag 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pedalboard


class StreamingEffect:
    """Run a pedalboard chain over consecutive blocks; total output length == total input length."""

    def __init__(self, plugins: Sequence[pedalboard.Plugin], sr: int, channels: int) -> None:
        self.board = pedalboard.Pedalboard(list(plugins))
        self.sr = sr
        self.channels = channels
        self._in = 0
        self._out = 0
        self._pending: list[np.ndarray] = []
        self._pending_len = 0

    @property
    def active(self) -> bool:
        return len(self.board) > 0

    def process(self, block: np.ndarray) -> np.ndarray:
        """Feed a (channels, n) block; returns what is ready, already aligned (may be shorter)."""
        block = np.ascontiguousarray(block, dtype=np.float32)
        if not self.active:
            return block
        self._in += block.shape[1]
        out = self.board.process(block, self.sr, reset=False)
        self._out += out.shape[1]
        return out

    def flush(self) -> np.ndarray:
        """Push silence until everything fed has come out; returns the remaining aligned tail."""
        if not self.active:
            return np.zeros((self.channels, 0), np.float32)
        tail = []
        zeros = np.zeros((self.channels, 8192), np.float32)
        guard = 0
        while self._out < self._in and guard < 200:
            out = self.board.process(zeros, self.sr, reset=False)
            tail.append(out)
            self._out += out.shape[1]
            guard += 1
        if not tail:
            return np.zeros((self.channels, 0), np.float32)
        data = np.concatenate(tail, axis=1)
        extra = self._out - self._in
        return data[:, : data.shape[1] - extra] if extra > 0 else data


class Aligner:
    """Re-blocks the possibly ragged output of a StreamingEffect into fixed-size blocks."""

    def __init__(self, channels: int) -> None:
        self.channels = channels
        self._buf: list[np.ndarray] = []
        self._n = 0

    def push(self, data: np.ndarray) -> None:
        if data.shape[1]:
            self._buf.append(data)
            self._n += data.shape[1]

    def available(self) -> int:
        return self._n

    def pop(self, n: int) -> np.ndarray:
        data = np.concatenate(self._buf, axis=1) if len(self._buf) != 1 else self._buf[0]
        out, rest = data[:, :n], data[:, n:]
        self._buf = [rest] if rest.shape[1] else []
        self._n = rest.shape[1]
        return out


def vocal_chain(reverb: float = 0.0, compress: bool = True) -> list[pedalboard.Plugin]:
    """Light vocal polish: a gentle high-pass, 2.5:1 compression, then optional reverb.

    ``reverb`` in 0..1 is the wet amount (0 = dry); room size grows with it.
    """
    if not 0.0 <= reverb <= 1.0:
        raise ValueError("reverb must be within 0..1")
    plugins: list[pedalboard.Plugin] = []
    if compress:
        plugins += [
            pedalboard.HighpassFilter(cutoff_frequency_hz=70.0),
            pedalboard.Compressor(threshold_db=-20.0, ratio=2.5, attack_ms=8.0, release_ms=120.0),
        ]
    if reverb > 0:
        plugins.append(
            pedalboard.Reverb(
                room_size=0.3 + 0.5 * reverb, damping=0.5, wet_level=0.35 * reverb, dry_level=1.0, width=1.0
            )
        )
    return plugins


def pitch_shift_chain(semitones: float) -> list[pedalboard.Plugin]:
    """Key shift with Rubber Band (keeps duration); empty when there is nothing to shift."""
    if abs(semitones) < 1e-6:
        return []
    return [pedalboard.PitchShift(semitones=float(semitones))]


def limiter(ceiling_db: float = -1.5) -> pedalboard.Plugin:
    """Lookahead brick-wall limiter with a 4x-oversampled (true-peak) sidechain."""
    return pedalboard.BrickwallLimiter(
        ceiling_db=ceiling_db, release_ms=100.0, lookahead_ms=5.0, true_peak=True
    )
