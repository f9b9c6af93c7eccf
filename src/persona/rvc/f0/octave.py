"""High-register octave correction: pitch trackers often report a high note an octave low.

Above roughly 1 kHz (a soprano's top, a whistle register) RMVPE, CREPE and FCPE tend to lock onto
half the true frequency for a note or a few frames, and the converted voice then drops an octave
in the middle of a phrase. Applio and rvc-next offer a corrector; this one is Persona's: a voiced
frame whose f0 is about half (within a quarter tone) of the median of the voiced frames around it
(``WINDOW_S`` either side), where that median is itself high (``MIN_CONTEXT_HZ``), is doubled.
Frames in a low passage are never touched, nor is anything when the tracker was right, so a
conversion with the corrector on differs from one without only where the tracker halved a high
note. It is off by default (``ConversionOptions.f0_octave_fix``), so parity with RVC holds.
"""

from __future__ import annotations

import numpy as np

FRAME_S = 0.01  # RVC's f0 hop (160 samples at 16 kHz)
WINDOW_S = 0.6  # context on each side: longer than a halved note, shorter than a phrase
MIN_CONTEXT_HZ = 700.0  # the corrector acts only inside a high passage
TOLERANCE_CENTS = 50.0  # "about half": within a quarter tone of one octave below


def correct_high_octaves(f0: np.ndarray) -> np.ndarray:
    """``f0`` (Hz, 0 = unvoiced) with halved high notes doubled; a new array, same length."""
    f = np.asarray(f0, dtype=np.float64).copy()
    voiced = f > 0
    if voiced.sum() < 3:
        return f
    half = int(round(WINDOW_S / FRAME_S))
    idx = np.flatnonzero(voiced)
    values = f[idx]
    # the median of the voiced frames within +-half frames of each voiced frame
    left = np.searchsorted(idx, idx - half, side="left")
    right = np.searchsorted(idx, idx + half, side="right")
    context = np.array([np.median(values[a:b]) for a, b in zip(left, right, strict=True)])
    cents = 1200.0 * np.log2(values / context)
    halved = (context >= MIN_CONTEXT_HZ) & (np.abs(cents + 1200.0) <= TOLERANCE_CENTS)
    f[idx[halved]] *= 2.0
    return f
