"""SwiftF0 pitch on RVC's frame grid: the ONNX model that ships inside the ``swift-f0`` wheel.

SwiftF0 reports one pitch and confidence per 256 samples at 16 kHz (16 ms frames, frame ``i`` at
``i * 0.016`` s); a frame is voiced when its confidence is at least 0.5 (the library's rule). RVC's
grid is one frame per 160 samples (10 ms): each RVC frame takes the pitch of the nearest SwiftF0
frame in time, or 0 Hz when that frame is unvoiced (interpolating across a voicing edge would
invent pitches), clipped to RVC's 50..1100 Hz range like the other estimators.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from persona.errors import PersonaError
from persona.rvc.f0.postprocess import F0_MAX, F0_MIN

SR = 16000
HOP = 160
VOICED_CONFIDENCE = 0.5


@lru_cache(maxsize=1)
def _detector():  # noqa: ANN202 - cached ONNX session
    try:
        from swift_f0 import SwiftF0
    except ImportError as exc:  # pragma: no cover - a pinned dependency
        raise PersonaError("f0_unavailable", "the 'swiftf0' pitch method needs the swift-f0 package") from exc
    return SwiftF0(threads=1, spin=False)  # a shared server: no busy-waiting thread pool


def swift_f0(x: np.ndarray, p_len: int) -> np.ndarray:
    """f0 in Hz (0 = unvoiced) for ``p_len`` RVC frames of the 16 kHz audio ``x``."""
    from swift_f0 import FRAME_PERIOD

    result = _detector().detect(np.asarray(x, dtype=np.float32), SR, fmin=F0_MIN, fmax=F0_MAX)
    pitch = np.where(result.confidence >= VOICED_CONFIDENCE, result.pitch_hz, 0.0)
    times = np.arange(p_len) * (HOP / SR)
    nearest = np.clip(np.rint(times / FRAME_PERIOD).astype(np.int64), 0, len(pitch) - 1)
    f0 = pitch[nearest]
    f0[(f0 > 0) & (f0 < F0_MIN)] = 0.0
    return np.minimum(f0, F0_MAX)
