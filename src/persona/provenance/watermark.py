"""Persona's audio watermark: a keyed patchwork mark in the 0.25-6.75 kHz log spectrum.

Owns the mark's numerics, embedding and detection. The idea follows audiowmark (Stefan
Westerfeld's patchwork marker): raise and lower the magnitude of pseudo-random time-frequency
tiles by a small factor, and detect by correlating the file's whitened log spectrum with the same
keyed pattern. Here the mark carries no payload (it says "made by Persona"), which buys a
detector that needs no synchronisation codes:

- Analysis at 16 kHz, 1024-point sqrt-Hann STFT, hop 512 (perfect reconstruction at 50 %
  overlap). Tiles are 4 bins (62.5 Hz) x 4 frames (128 ms), 104 bands from 250 Hz up; the
  pattern repeats every ``PERIOD`` = 32 blocks (4.1 s). Each row has as many +1 as -1, so a
  change of level or EQ does not correlate with it.
- Embedding multiplies each tile's spectrum by ``exp(+-DEPTH)`` and adds the difference, as a
  waveform resampled to the file's rate, to every channel: the audio above 6.75 kHz, its rate and
  its length are untouched, and the change in each band stays about -23 dB under the music in
  that band, where the music masks it.
- Detection whitens the log spectrum (minus each frame's mean and a 1 s moving average),
  folds it over the period and correlates with every cyclic shift of the pattern, for 2 frame
  phases, a grid of speed factors 0.94-1.06 (a speed change is undone by reading the file at
  another rate) and the same grid of tempos (time stretched, pitch kept: the frames are read
  back at the made pace). The statistic ``z = <P, F> / |F|`` is standard normal for unmarked
  audio whatever the audio is, because the keyed signs are independent of it; ``THRESHOLD`` = 6
  over the ~6,400 tries puts the chance of a false alarm near 6e-6 per file (measured on
  unmarked audio in benchmarks/bench_provenance.py).

Everything is numpy + soxr: no weights to load, nothing that can silently fail to load.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from math import gcd

import numpy as np
import soxr

RATE = 16000
N_FFT = 1024
HOP = N_FFT // 2
FIRST_BIN = 16  # 250 Hz
BAND_BINS = 4
BANDS = 104  # up to bin 432 = 6.75 kHz
FRAMES_PER_BLOCK = 4
PERIOD = 32  # blocks
DEPTH = 0.07  # natural-log gain of a tile (+-0.6 dB)
THRESHOLD = 6.0
MAX_DETECT_S = 240.0  # longer files: their first 4 minutes are plenty
# 0.94 .. 1.06, as made first: a clearly marked file stops the search there
SPEEDS = tuple(sorted((round(0.94 + 0.01 * i, 2) for i in range(13)), key=lambda s: (abs(s - 1.0), s)))
TEMPOS = tuple(s for s in SPEEDS if s != 1.0)  # time stretched, pitch kept (sox tempo, WSOLA)
SURE = THRESHOLD + 4.0  # a score this high ends the search: more tries cannot make it unmarked
KEY = b"persona ai cover mark v1"
_CONTEXT_S = 0.25  # each side of a chunk, so chunked marking equals whole-file marking
_LAST_BIN = FIRST_BIN + BANDS * BAND_BINS


@cache
def pattern(key: bytes = KEY) -> np.ndarray:
    """The keyed +-1 pattern, (PERIOD, BANDS), each row balanced."""
    seed = int.from_bytes(hashlib.sha256(key).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    row = np.repeat(np.array([1.0, -1.0]), BANDS // 2)
    return np.stack([rng.permutation(row) for _ in range(PERIOD)])


@cache
def _window() -> np.ndarray:
    return np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT))  # periodic sqrt-Hann


def _frames(x: np.ndarray) -> np.ndarray:
    """Frames t = 0.. starting at t * HOP (x padded with zeros to whole frames), windowed."""
    n = max(0, -(-(len(x) - N_FFT) // HOP)) + 1
    x = np.pad(x, (0, max(0, (n - 1) * HOP + N_FFT - len(x))))
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    return x[idx] * _window()


def _tile_gain(first_frame: int, n_frames: int, key: bytes) -> np.ndarray:
    """exp(+-DEPTH) per frame and band bin, (n_frames, BANDS * BAND_BINS)."""
    blocks = (np.arange(first_frame, first_frame + n_frames) // FRAMES_PER_BLOCK) % PERIOD
    return np.repeat(np.exp(DEPTH * pattern(key)[blocks]), BAND_BINS, axis=1)


def _residual16(x16: np.ndarray, first_frame: int, key: bytes) -> np.ndarray:
    """The mark as a 16 kHz waveform for ``x16``, whose sample 0 sits at frame ``first_frame``."""
    spec = np.fft.rfft(_frames(x16), axis=1)
    band = spec[:, FIRST_BIN:_LAST_BIN]
    delta = np.zeros_like(spec)
    delta[:, FIRST_BIN:_LAST_BIN] = band * (_tile_gain(first_frame, len(spec), key) - 1.0)
    frames = np.fft.irfft(delta, n=N_FFT, axis=1) * _window()
    out = np.zeros((len(frames) - 1) * HOP + N_FFT)
    for i in range(2):  # 50 % overlap: two interleaved sets of non-overlapping frames
        sub = frames[i::2].reshape(-1)
        start = i * HOP
        out[start : start + len(sub)] += sub
    return out[: len(x16)]


def _grid(sr: int) -> tuple[int, int]:
    """(step at sr, step at 16 kHz): chunk edges on this grid fall on whole frames at both rates."""
    step16 = np.lcm(RATE // gcd(sr, RATE), HOP)
    return int(step16 * sr // RATE), int(step16)


class Marker:
    """Marks a stream of audio block by block; ``process`` returns what is ready, ``flush`` the rest.

    Output equals ``mark_audio`` on the whole signal (chunks overlap by ``_CONTEXT_S``), delayed
    by at most one chunk. Blocks are (channels, n) float; every channel gets the same mark.
    """

    def __init__(self, sr: int, channels: int, *, chunk_s: float = 20.0, key: bytes = KEY) -> None:
        self.sr, self.channels, self.key = int(sr), channels, key
        step, self._step16 = _grid(self.sr)
        self._step = step
        self._ctx = step * max(1, -(-int(_CONTEXT_S * self.sr) // step))
        self._chunk = step * max(1, int(chunk_s * self.sr) // step)
        self._buf = np.zeros((channels, self._ctx), np.float32)  # left context: silence before 0
        self._start = 0  # absolute sample index of the next sample to emit

    def _emit(self, n: int, final: bool) -> np.ndarray:
        """Mark the next ``n`` samples (``_buf`` holds context + n + right context, or less at the end)."""
        seg = self._buf
        mono = seg.mean(axis=0, dtype=np.float64)
        want = self._ctx + n + self._ctx
        if final and len(mono) < want:
            mono = np.pad(mono, (0, want - len(mono)))
        x16 = soxr.resample(mono[:want], self.sr, RATE, quality="HQ")
        first = (self._start - self._ctx) * RATE // self.sr // HOP
        r16 = _residual16(x16, first, self.key)
        r = soxr.resample(r16, RATE, self.sr, quality="HQ")
        r = np.pad(r, (0, max(0, want - len(r))))[self._ctx : self._ctx + n]
        out = seg[:, self._ctx : self._ctx + n] + r.astype(np.float32)[None]
        self._buf = seg[:, n:]
        self._start += n
        return out

    def process(self, block: np.ndarray) -> np.ndarray:
        block = np.asarray(block, np.float32).reshape(self.channels, -1)
        self._buf = np.concatenate([self._buf, block], axis=1)
        ready = []
        while self._buf.shape[1] >= self._ctx + self._chunk + self._ctx:
            ready.append(self._emit(self._chunk, final=False))
        return np.concatenate(ready, axis=1) if ready else np.zeros((self.channels, 0), np.float32)

    def flush(self) -> np.ndarray:
        ready = []
        while self._buf.shape[1] > self._ctx:
            n = min(self._chunk, self._buf.shape[1] - self._ctx)
            ready.append(self._emit(n, final=True))
        return np.concatenate(ready, axis=1) if ready else np.zeros((self.channels, 0), np.float32)


def embed(audio: np.ndarray, sr: int, *, key: bytes = KEY) -> np.ndarray:
    """``audio`` ((n,) or (channels, n), float) with the mark added; same shape, float32."""
    a = np.asarray(audio, np.float32)
    two = a.reshape(1, -1) if a.ndim == 1 else a
    marker = Marker(sr, two.shape[0], key=key)
    out = np.concatenate([marker.process(two), marker.flush()], axis=1)
    return out.reshape(a.shape)


# ------------------------------------------------------------------------------------- detection


@dataclass(frozen=True)
class Detection:
    score: float  # the best z over shifts, phases, speeds and tempos
    marked: bool
    speed: float  # the speed factor where the best z was found (1.0: as made)
    tempo: float = 1.0  # the tempo factor (time stretched, pitch kept) where it was found


def _whitened_bands(x16: np.ndarray) -> np.ndarray:
    """Log band energies minus each frame's mean and a ~1 s moving average, clipped: (frames, BANDS)."""
    spec = np.abs(np.fft.rfft(_frames(x16), axis=1)[:, FIRST_BIN:_LAST_BIN]) ** 2
    bands = np.log(spec.reshape(len(spec), BANDS, BAND_BINS).mean(axis=2) + 1e-10)
    bands -= bands.mean(axis=1, keepdims=True)
    w = 31
    if len(bands) > w:
        c = np.cumsum(np.pad(bands, ((w // 2 + 1, w // 2), (0, 0)), mode="edge"), axis=0)
        bands = bands - (c[w:] - c[:-w]) / w
    # each band in units of its own spread: steady bands (held notes) carry the mark clearly,
    # bands a vibrato sweeps through are noisy; a weight from the audio keeps z's null law
    s = np.median(np.abs(bands), axis=0, keepdims=True) * 1.4826 + 1e-9
    return np.clip(bands / s, -3.0, 3.0)


def _best_z(white: np.ndarray, key: bytes) -> float:
    p = pattern(key)
    best = -np.inf
    for phase in range(FRAMES_PER_BLOCK):
        n_blocks = (len(white) - phase) // FRAMES_PER_BLOCK
        if n_blocks < 1:
            continue
        blocks = white[phase : phase + n_blocks * FRAMES_PER_BLOCK].reshape(n_blocks, FRAMES_PER_BLOCK, BANDS)
        blocks = blocks.sum(axis=1)
        folded = np.zeros((PERIOD, BANDS))
        np.add.at(folded, np.arange(n_blocks) % PERIOD, blocks)
        norm = np.sqrt((folded**2).sum())
        if norm <= 0:
            continue
        # circular correlation over the period for all shifts at once
        corr = np.fft.irfft(np.fft.rfft(folded, axis=0) * np.conj(np.fft.rfft(p, axis=0)), n=PERIOD, axis=0)
        best = max(best, float(corr.sum(axis=1).max() / norm))
    return best


def _stretched(white: np.ndarray, tempo: float) -> np.ndarray:
    """Frames of a file played ``tempo`` times faster (pitch kept), read back at the made pace."""
    pos = np.arange(0.0, len(white) - 1, 1.0 / tempo)
    i = pos.astype(int)
    f = (pos - i)[:, None]
    return white[i] * (1 - f) + white[np.minimum(i + 1, len(white) - 1)] * f


def _resampled(mono: np.ndarray, sr: float) -> Iterator[tuple[float, np.ndarray]]:
    for speed in SPEEDS:
        # a file played ``speed`` times faster is undone by reading it at sr / speed
        yield speed, soxr.resample(mono, sr / speed, RATE, quality="HQ")


def detect(audio: np.ndarray, sr: int, *, key: bytes = KEY) -> Detection:
    """Whether ``audio`` ((n,) or (channels, n)) carries the mark made with ``key``."""
    a = np.asarray(audio, np.float64)
    mono = (a if a.ndim == 1 else a.mean(axis=0))[: int(MAX_DETECT_S * sr)]
    best, best_speed, best_tempo = -np.inf, 1.0, 1.0
    for speed, x16 in _resampled(mono, float(sr)):
        whites = [_whitened_bands(x16[sub:]) for sub in (0, HOP // 2)]  # frames may sit anywhere
        for white in whites:
            z = _best_z(white, key)
            if z > best:
                best, best_speed, best_tempo = z, speed, 1.0
        if speed == 1.0 and best < SURE:  # then the same frames read at other tempos
            for tempo in TEMPOS:
                for white in whites:
                    z = _best_z(_stretched(white, tempo), key)
                    if z > best:
                        best, best_speed, best_tempo = z, 1.0, tempo
                if best >= SURE:
                    break
        if best >= SURE:
            break
    score = 0.0 if not np.isfinite(best) else round(best, 2)
    return Detection(score=score, marked=score >= THRESHOLD, speed=best_speed, tempo=best_tempo)
