"""Sample-rate conversion for every part of Persona.

Uses soxr at high quality ("HQ", the same filter librosa's default ``res_type="soxr_hq"`` uses,
which RVC calls for its output resampling). Like ``librosa.resample`` the result has exactly
``ceil(n * sr_out / sr_in)`` samples (trimmed or zero-padded at the end), so arrays line up with
what the reference computes.
"""

from __future__ import annotations

import math

import numpy as np
import soxr


def resampled_length(n: int, sr_in: int, sr_out: int) -> int:
    """Number of samples ``resample`` returns for ``n`` input samples."""
    if sr_in == sr_out:
        return n
    return int(math.ceil(n * float(sr_out) / sr_in))


def resample(x: np.ndarray, sr_in: int, sr_out: int, *, quality: str = "HQ") -> np.ndarray:
    """Resample ``x`` (shape ``(n,)`` or ``(channels, n)``) from ``sr_in`` to ``sr_out`` Hz.

    Returns float32 (float64 input stays float64). Equal rates return the input unchanged.
    """
    if sr_in <= 0 or sr_out <= 0:
        raise ValueError(f"sample rates must be positive, got {sr_in} -> {sr_out}")
    x = np.asarray(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"expected audio of shape (n,) or (channels, n), got {x.shape}")
    dtype = np.float64 if x.dtype == np.float64 else np.float32
    x = x.astype(dtype, copy=False)
    if int(sr_in) == int(sr_out):
        return x
    n = x.shape[-1]
    target = resampled_length(n, int(sr_in), int(sr_out))
    if n == 0:
        return np.zeros(x.shape[:-1] + (0,), dtype=dtype)
    # soxr wants (frames, channels); channels are filtered independently.
    data = x if x.ndim == 1 else np.ascontiguousarray(x.T)
    y = soxr.resample(data, int(sr_in), int(sr_out), quality=quality)
    y = np.asarray(y, dtype=dtype)
    if x.ndim == 2:
        y = y.T
    if y.shape[-1] > target:
        y = y[..., :target]
    elif y.shape[-1] < target:
        pad = [(0, 0)] * (y.ndim - 1) + [(0, target - y.shape[-1])]
        y = np.pad(y, pad)
    return np.ascontiguousarray(y)
