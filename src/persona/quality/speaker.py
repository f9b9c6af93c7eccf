"""Speaker similarity: does the converted voice sound like the person who recorded the training set?

Resemblyzer's GE2E speaker encoder (256-d d-vectors; weights ship in its PyPI wheel, 17 MB), as
Seed-VC's EVAL.md measures SECS: the cosine similarity of the utterance embedding of the
converted audio and that of the target voice (here: the training recordings, concatenated).
The encoder trims non-speech with webrtcvad first; audio that keeps (almost) nothing after that
trim is embedded untrimmed, level-normalised, so a barely trained model's buzz still gets a
(low) score; silent audio gets none (``None``: the caller reports the metric as unavailable).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence

import numpy as np

_encoder = None
_lock = threading.Lock()
MIN_SAMPLES_16K = 16000 // 2  # half a second: less than one of the encoder's partial windows


def _voice_encoder():
    global _encoder
    with _lock:
        if _encoder is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pkg_resources deprecation inside resemblyzer
                from resemblyzer import VoiceEncoder

            _encoder = VoiceEncoder("cpu", verbose=False)
    return _encoder


def load() -> None:
    """Load the encoder now (a training does before its first save, which would load it)."""
    _voice_encoder()


def embed(audio: np.ndarray, sr: int) -> np.ndarray | None:
    """Unit-length speaker embedding, or None when the audio is silent or shorter than 0.5 s."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from resemblyzer import preprocess_wav

    audio = np.asarray(audio, dtype=np.float32)
    if audio.size == 0 or not np.isfinite(audio).all() or float(np.abs(audio).max()) <= 1e-5:
        return None
    wav = preprocess_wav(audio, source_sr=sr)
    if len(wav) < MIN_SAMPLES_16K:
        from persona.audio.resample import resample

        wav = resample(audio, sr, 16000) if sr != 16000 else audio
        peak = float(np.abs(wav).max()) if len(wav) else 0.0
        if peak <= 0 or len(wav) < MIN_SAMPLES_16K:
            return None
        wav = (wav / peak * 0.5).astype(np.float32)
    e = _voice_encoder().embed_utterance(wav)
    n = float(np.linalg.norm(e))
    return e / n if n > 0 else None


def voice_embedding(
    recordings: Sequence[np.ndarray], sr: int, max_seconds: float = 120.0
) -> np.ndarray | None:
    """The target voice: one embedding of (up to ``max_seconds`` of) the recordings together."""
    if not recordings:
        return None
    audio = np.concatenate([np.asarray(r, dtype=np.float32) for r in recordings])
    return embed(audio[: int(max_seconds * sr)], sr)


def similarity(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    if a is None or b is None:
        return None
    return round(float(np.dot(a, b)), 4)
