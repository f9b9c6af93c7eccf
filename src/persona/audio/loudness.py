"""Streaming loudness (ITU-R BS.1770-4) and true-peak measurement.

Owns the numbers the mixer normalises to. Follows pyloudnorm's ``Meter.integrated_loudness``
exactly (its K-weighting filter coefficients are used as they are; 400 ms gating blocks with
75 % overlap, absolute gate -70 LUFS, relative gate -10 LU, channel weights 1.0 for L/R), but
consumes audio block by block with carried filter state, so a 20-minute song is measured in
bounded memory. True peak follows BS.1770 Annex 2: the peak of the signal upsampled 4x.
"""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
from scipy import signal

_ABS_GATE = -70.0
_REL_GATE = -10.0


class LoudnessMeter:
    """Integrated loudness of audio fed in blocks of shape (channels, n).

    ``add(block)`` any number of times, then ``integrated()`` (LUFS; ``-inf`` for silence or for
    audio shorter than one 400 ms block, like pyloudnorm).
    """

    def __init__(self, sr: int, channels: int) -> None:
        self.sr = int(sr)
        self.channels = int(channels)
        meter = pyloudnorm.Meter(self.sr)  # BS.1770-4 K-weighting
        self._stages = [(np.asarray(f.b, float), np.asarray(f.a, float)) for f in meter._filters.values()]
        self._zi = [[signal.lfilter_zi(b, a) * 0.0 for _ in range(self.channels)] for b, a in self._stages]
        self._hop = 0.1 * self.sr  # 100 ms sub-blocks; a gating block is 4 of them
        self._sub_energy: list[np.ndarray] = []  # per 100 ms: sum of squares per channel
        self._acc = np.zeros(self.channels)
        self._pos = 0  # samples consumed
        self._next_edge = self._edge(1)

    def add(self, block: np.ndarray) -> None:
        block = np.atleast_2d(np.asarray(block, dtype=np.float64))
        filtered = np.empty_like(block)
        for ch in range(self.channels):
            y = block[ch]
            for s, (b, a) in enumerate(self._stages):
                y, self._zi[s][ch] = signal.lfilter(b, a, y, zi=self._zi[s][ch])
            filtered[ch] = y
        sq = filtered**2
        start = 0
        n = block.shape[1]
        while start < n:
            edge = self._next_edge - self._pos  # samples until the current sub-block ends
            take = min(edge, n - start)
            self._acc += sq[:, start : start + take].sum(axis=1)
            start += take
            self._pos += take
            if self._pos >= self._next_edge:
                self._sub_energy.append(self._acc)
                self._acc = np.zeros(self.channels)
                self._next_edge = self._edge(len(self._sub_energy) + 1)

    def _edge(self, k: int) -> int:
        # pyloudnorm's block bounds: int(T_g * (j * step) * rate), T_g = 0.4 s, step = 0.25
        return int(0.4 * (k * 0.25) * self.sr)

    @property
    def seconds(self) -> float:
        return self._pos / self.sr

    def integrated(self) -> float:
        # The unfinished 100 ms tail counts as pyloudnorm counts it: a last block may run past the
        # end of the audio and is still divided by the full 400 ms.
        subs = np.array([*self._sub_energy, self._acc]).reshape(-1, self.channels)
        n_blocks = int(round((self.seconds - 0.4) / 0.1)) + 1 if self.seconds >= 0.4 else 0
        n_blocks = min(n_blocks, len(subs) - 3)
        if n_blocks <= 0:
            return float("-inf")
        # z[j, ch]: mean square of the K-weighted signal over 400 ms block j
        cums = np.concatenate([np.zeros((1, self.channels)), np.cumsum(subs, axis=0)])
        z = (cums[4 : 4 + n_blocks] - cums[:n_blocks]) / (0.4 * self.sr)
        power = z.sum(axis=1)  # channel weights are 1.0 for L and R
        with np.errstate(divide="ignore"):
            lj = -0.691 + 10.0 * np.log10(power)
        gated = lj >= _ABS_GATE
        if not gated.any():
            return float("-inf")
        rel = -0.691 + 10.0 * np.log10(power[gated].mean()) + _REL_GATE
        keep = (lj > rel) & (lj > _ABS_GATE)
        if not keep.any():
            return float("-inf")
        return float(-0.691 + 10.0 * np.log10(power[keep].mean()))


def integrated_loudness(audio: np.ndarray, sr: int) -> float:
    """Integrated loudness in LUFS of a (channels, n) or (n,) array."""
    audio = np.atleast_2d(audio)
    meter = LoudnessMeter(sr, audio.shape[0])
    meter.add(audio)
    return meter.integrated()


def true_peak(block: np.ndarray, oversample: int = 4) -> float:
    """Linear true peak of a block: max |x| after 4x polyphase upsampling (BS.1770 Annex 2)."""
    block = np.atleast_2d(np.asarray(block, dtype=np.float32))
    if block.size == 0:
        return 0.0
    sample_peak = float(np.max(np.abs(block)))
    if block.shape[1] < 8:
        return sample_peak
    up = signal.resample_poly(block, oversample, 1, axis=1)
    return max(sample_peak, float(np.max(np.abs(up))))


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def gain_to_db(gain: float) -> float:
    return 20.0 * math.log10(gain) if gain > 0 else float("-inf")
