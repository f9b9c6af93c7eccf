"""Score a trained voice: how much does the model sound like the person who recorded it?

A held-out segment of the user's own recording is converted by the new model (pitch 0, the
training f0 method) and compared with the user's voice by a speaker encoder whose weights ship
in its PyPI wheel (Resemblyzer's GE2E d-vectors, 256-d, cosine similarity of utterance
embeddings). We report ``speaker_similarity`` (converted held-out vs. the training voice) and,
as the ceiling for this voice and recording, ``reference_similarity`` (the original held-out
segment vs. the training voice). No other RVC tool reports either.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np

log = logging.getLogger(__name__)
_encoder = None


def _voice_encoder():
    global _encoder
    if _encoder is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pkg_resources deprecation inside resemblyzer
            from resemblyzer import VoiceEncoder

        _encoder = VoiceEncoder("cpu", verbose=False)
    return _encoder


def embed(audio: np.ndarray, sr: int) -> np.ndarray | None:
    """Unit-length speaker embedding, or None when the audio holds too little voice."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from resemblyzer import preprocess_wav

    audio = np.asarray(audio, dtype=np.float32)
    wav = preprocess_wav(audio, source_sr=sr)
    if len(wav) < 16000 // 2:
        # The encoder's voice-activity trim found (almost) no voice, e.g. in the buzz of a barely
        # trained model; embed the level-normalised audio untrimmed rather than give no score.
        from persona.audio.resample import resample

        wav = resample(audio, sr, 16000) if sr != 16000 else audio
        peak = float(np.abs(wav).max()) if len(wav) else 0.0
        if peak <= 0 or len(wav) < 16000 // 2:
            return None
        wav = (wav / peak * 0.5).astype(np.float32)
    e = _voice_encoder().embed_utterance(wav)
    n = float(np.linalg.norm(e))
    return e / n if n > 0 else None


def similarity(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    if a is None or b is None:
        return None
    return round(float(np.dot(a, b)), 4)


def speaker_similarity(
    converted: np.ndarray,
    converted_sr: int,
    held_out: np.ndarray,
    training: Sequence[np.ndarray],
    sr: int,
) -> dict[str, float | None]:
    """Similarities of the converted and of the original held-out audio to the training voice."""
    voice = embed(np.concatenate(list(training)), sr) if training else None
    return {
        "speaker_similarity": similarity(embed(converted, converted_sr), voice),
        "reference_similarity": similarity(embed(held_out, sr), voice),
    }
