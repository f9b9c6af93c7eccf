"""DNSMOS P.835 (SIG, BAK, OVRL): a no-reference speech-quality score from Microsoft's DNS Challenge.

The ONNX model ships in the ``speechmos`` wheel (``speechmos/dnsmos_models/sig_bak_ovr.onnx``);
we only locate that file and run it ourselves with onnxruntime on one thread without spinning,
which costs about 0.5 CPU-s per 9 s window here (speechmos' own runner spins a thread pool and
also runs the P.808 model, which Seed-VC's tables do not report). Numerics of Microsoft's
``dnsmos_local.py`` as Seed-VC's ``baselines/dnsmos`` and speechmos run it: 16 kHz audio,
repeated until it is 9.01 s long, windows of 9.01 s every 1 s, the raw SIG/BAK/OVRL of each window
mapped by the non-personalised polynomials and averaged over windows. Differs in: at most
``MAX_WINDOWS`` of those windows, evenly spread, are scored (a 9 s preview doubled to 18 s would
give 9 windows of mostly the same audio, 4 CPU-s instead of 1.4).
"""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path

import numpy as np

from persona.errors import PersonaError
from persona.quality.reasons import Reason

SR = 16000
INPUT_SECONDS = 9.01
MIN_SECONDS = 1.0
MAX_WINDOWS = 3
SILENT_RMS = 10 ** (-60 / 20)
# Microsoft's polynomial maps from the model's raw outputs to MOS (not personalised).
_P_SIG = np.poly1d([-0.08397278, 1.22083953, 0.0052439])
_P_BAK = np.poly1d([-0.13166888, 1.60915514, -0.39604546])
_P_OVR = np.poly1d([-0.06766283, 1.11546468, 0.04602535])

_session = None
_lock = threading.Lock()


def model_path() -> Path:
    spec = importlib.util.find_spec("speechmos")
    if spec is None or not spec.submodule_search_locations:
        raise PersonaError("asset_missing", "DNSMOS needs the speechmos package (pip install speechmos)")
    path = Path(next(iter(spec.submodule_search_locations))) / "dnsmos_models" / "sig_bak_ovr.onnx"
    if not path.is_file():
        raise PersonaError("asset_missing", f"the DNSMOS model is missing from speechmos ({path})")
    return path


def _model():
    global _session
    with _lock:
        if _session is None:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            opts.inter_op_num_threads = 1
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            _session = ort.InferenceSession(str(model_path()), opts, providers=["CPUExecutionProvider"])
    return _session


def window_cost() -> float:
    """Seconds one window takes here (the model loaded first): a training prices its previews'
    scoring with it before the first save (``windows`` of them per preview). This is the model's
    first run, which the first save would do, and about a third slower than later ones."""
    session = _model()
    started = time.monotonic()
    session.run(None, {"input_1": np.zeros((1, int(INPUT_SECONDS * SR)), dtype=np.float32)})
    return time.monotonic() - started


def windows(seconds: float) -> int:
    """How many windows ``dnsmos`` scores of a clip this long."""
    return len(_starts(max(1, int(seconds * SR))))


def _repeated_length(n: int) -> int:
    need = int(INPUT_SECONDS * SR)
    while n < need:
        n *= 2
    return n


def _starts(n: int) -> list[int]:
    """The window starts (seconds) for ``n`` samples, after the clip is repeated to one window."""
    hops = max(1, int(np.floor(_repeated_length(n) / SR) - INPUT_SECONDS) + 1)
    return sorted({int(round(x)) for x in np.linspace(0, hops - 1, min(hops, MAX_WINDOWS))})


def unavailable_reason(audio16k: np.ndarray) -> Reason | None:
    """Why DNSMOS cannot score this audio (None when it can)."""
    x = np.asarray(audio16k, dtype=np.float64)
    if x.size < MIN_SECONDS * SR:
        return Reason("too_short", f"shorter than {MIN_SECONDS:g} s")
    if not np.isfinite(x).all():
        return Reason("not_finite")
    if np.sqrt(np.mean(x**2)) < SILENT_RMS:
        return Reason("output_silent", "the audio is silent")
    return None


def dnsmos(audio16k: np.ndarray) -> dict[str, float]:
    """``{"dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl"}`` (1..5) of 16 kHz mono audio.

    Raises ``PersonaError("metric_unavailable")`` for audio it cannot score (see ``unavailable_reason``).
    """
    reason = unavailable_reason(audio16k)
    if reason:
        raise PersonaError("metric_unavailable", reason, params={"reason": reason.code})
    audio = np.clip(np.asarray(audio16k, dtype=np.float32), -1.0, 1.0)
    need = int(INPUT_SECONDS * SR)
    while len(audio) < need:
        audio = np.concatenate([audio, audio])
    starts = _starts(len(audio))
    session = _model()
    raw = []
    for i in starts:
        seg = audio[i * SR : i * SR + need]
        if len(seg) < need:
            continue
        raw.append(session.run(None, {"input_1": seg[np.newaxis, :]})[0][0])
    # Polynomials per window, then the mean, as Microsoft's script; the maps are monotone here.
    r = np.asarray(raw, dtype=np.float64)
    return {
        "dnsmos_sig": round(float(np.mean(_P_SIG(r[:, 0]))), 3),
        "dnsmos_bak": round(float(np.mean(_P_BAK(r[:, 1]))), 3),
        "dnsmos_ovrl": round(float(np.mean(_P_OVR(r[:, 2]))), 3),
    }
