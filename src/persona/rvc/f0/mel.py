"""Triangular mel filterbanks as ``librosa.filters.mel`` builds them, without librosa at runtime.

RMVPE takes its band edges on the HTK mel scale and FCPE on the Slaney scale (librosa's default);
each module owns its scale, and the triangles between the edges are built here once, with
librosa's Slaney area normalisation. tests/test_f0_rmvpe.py and tests/test_f0_crepe_fcpe.py check
both filterbanks against librosa.
"""

from __future__ import annotations

import numpy as np


def triangular_filters(edges_hz: np.ndarray, sr: int, n_fft: int) -> np.ndarray:
    """(len(edges_hz) - 2, n_fft // 2 + 1) float32 filters: band i rises from ``edges_hz[i]`` to
    ``edges_hz[i + 1]`` and falls to ``edges_hz[i + 2]``, scaled to equal area (Slaney norm)."""
    n_mels = len(edges_hz) - 2
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    fdiff = np.diff(edges_hz)
    ramps = np.subtract.outer(edges_hz, fftfreqs)
    weights = np.zeros((n_mels, len(fftfreqs)), dtype=np.float32)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (edges_hz[2 : n_mels + 2] - edges_hz[:n_mels])
    weights *= enorm[:, np.newaxis]
    return weights
