"""The DSP pitch trackers: ``pm`` (Praat autocorrelation) and ``harvest`` (WORLD).

``pm`` follows RVC's ``infer/vc/pipeline.py``: ``to_pitch_ac(time_step=0.01, voicing_threshold=0.6,
pitch_floor=50, pitch_ceiling=1100)``, zero-padded on both sides to ``p_len``. ``harvest`` follows
the RVC releases that offered it (``pipeline.py`` ``cache_harvest_f0``): ``pyworld.harvest`` with
frame_period 10 ms and f0 50..1100 Hz on float64 audio, refined by ``pyworld.stonemask``, then a
3-point median filter when ``filter_radius > 2`` (the only method RVC applies it to).
"""

from __future__ import annotations

import numpy as np

from persona.errors import PersonaError
from persona.rvc.f0.postprocess import F0_MAX, F0_MIN

SR = 16000
HOP = 160


def pm_f0(x: np.ndarray, p_len: int) -> np.ndarray:
    return pm_pad(pm_frames(x), p_len)


def pm_frames(x: np.ndarray) -> np.ndarray:
    """Praat's own frames (centred in ``x``), before RVC pads them to ``p_len``."""
    try:
        import parselmouth
    except ImportError as exc:  # pragma: no cover - a dependency
        raise PersonaError("f0_unavailable", "the 'pm' pitch method needs praat-parselmouth") from exc
    return (
        parselmouth.Sound(np.asarray(x, dtype=np.float64), SR)
        .to_pitch_ac(time_step=HOP / SR, voicing_threshold=0.6, pitch_floor=F0_MIN, pitch_ceiling=F0_MAX)
        .selected_array["frequency"]
    )


def pm_pad(f0: np.ndarray, p_len: int) -> np.ndarray:
    """RVC's symmetric zero padding of Praat's frames to ``p_len``."""
    pad_size = (p_len - len(f0) + 1) // 2
    if pad_size > 0 or p_len - len(f0) - pad_size > 0:
        f0 = np.pad(f0, [[pad_size, p_len - len(f0) - pad_size]], mode="constant")
    return f0


def harvest_f0(x: np.ndarray, filter_radius: int) -> np.ndarray:
    try:
        import pyworld
    except ImportError as exc:  # pragma: no cover - a dependency
        raise PersonaError("f0_unavailable", "the 'harvest' pitch method needs pyworld") from exc
    from scipy import signal

    audio = np.ascontiguousarray(x, dtype=np.double)
    f0, t = pyworld.harvest(audio, fs=SR, f0_ceil=F0_MAX, f0_floor=F0_MIN, frame_period=10)
    f0 = pyworld.stonemask(audio, f0, t, SR)
    if filter_radius > 2:
        f0 = signal.medfilt(f0, 3)
    return f0
