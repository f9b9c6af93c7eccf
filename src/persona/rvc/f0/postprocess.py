"""What RVC does to every f0 curve after estimation: align, fill, shift, quantise.

Follows RVC's ``infer/vc/pipeline.py`` ``get_f0``: for models trained the RVC-2026 way, unvoiced
frames (0 Hz) are filled by linear interpolation between voiced ones (``fill_unvoiced``; RVC 2026
does this in inference and in training's ``extract_f0.py``; an all-unvoiced curve stays 0);
classic RVC (20240604) and Applio keep them at 0 Hz. Then ``f0 *= 2 ** (pitch / 12)``, then the
mel-scale coarse quantisation to 1..255 over 50..1100 Hz. ``align`` keeps ``p_len`` frames (RVC's
``pitch[:p_len]``). Training (``persona.training.features``) uses these same functions.
"""

from __future__ import annotations

import numpy as np

F0_MIN = 50.0
F0_MAX = 1100.0
F0_MEL_MIN = 1127 * np.log(1 + F0_MIN / 700)
F0_MEL_MAX = 1127 * np.log(1 + F0_MAX / 700)


def align(f0: np.ndarray, p_len: int) -> np.ndarray:
    """Exactly ``p_len`` frames: cut the tail, or zero-pad it when an estimator gave fewer."""
    f0 = np.asarray(f0)[:p_len]
    if len(f0) < p_len:
        f0 = np.pad(f0, (0, p_len - len(f0)))
    return f0


def fill_unvoiced(f0: np.ndarray) -> np.ndarray:
    """Linear interpolation over 0 Hz frames (edges take the nearest voiced value), in place."""
    uv = f0 == 0
    if uv.any() and not uv.all():
        f0[uv] = np.interp(np.where(uv)[0], np.where(~uv)[0], f0[~uv])
    return f0


def shift(f0: np.ndarray, pitch: float) -> np.ndarray:
    """Transpose by ``pitch`` semitones, in place."""
    f0 *= pow(2, pitch / 12)
    return f0


def coarse(f0: np.ndarray) -> np.ndarray:
    """RVC's mel-scale quantisation: 0 Hz -> 1, 50..1100 Hz -> 1..255 (int32)."""
    f0_mel = 1127 * np.log(1 + f0 / 700)
    f0_mel[f0_mel > 0] = (f0_mel[f0_mel > 0] - F0_MEL_MIN) * 254 / (F0_MEL_MAX - F0_MEL_MIN) + 1
    f0_mel[f0_mel <= 1] = 1
    f0_mel[f0_mel > 255] = 255
    return np.rint(f0_mel).astype(np.int32)
