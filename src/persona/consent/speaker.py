"""Is the consent clip the voice of the training recordings? Resemblyzer's GE2E embeddings (the
same encoder the quality metrics use), cosine similarity of the clip against the recordings read
together.

``THRESHOLD`` comes from ``benchmarks/bench_consent.py`` (17 synthetic speakers from festival and
espeak-ng, consent clips through a phone-like Opus channel with noise): same speaker 0.85-0.96,
different speakers median 0.59; at 0.80 no same-speaker clip was refused and 0.3 % of pairs
involving a festival voice were accepted (espeak-ng's variants, one synthesiser with other
settings, reach 0.88 with each other). Real people vary more between a phone and a studio
microphone than a synthesiser does, so the bar is not set higher.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from persona.errors import PersonaError

THRESHOLD = 0.80


def similarity(clip16k: np.ndarray, recordings: Sequence[tuple[np.ndarray, int]]) -> float | None:
    from persona.quality import speaker

    clip = speaker.embed(clip16k, 16000)
    voice = speaker.voice_embedding([speaker_audio(a, sr) for a, sr in recordings], 16000)
    return speaker.similarity(clip, voice)


def speaker_audio(audio: np.ndarray, sr: int) -> np.ndarray:
    from persona.audio.resample import resample

    mono = audio.mean(axis=0) if audio.ndim == 2 else audio
    return resample(mono.astype(np.float32), sr, 16000) if sr != 16000 else mono.astype(np.float32)


def verify(
    clip16k: np.ndarray, recordings: Sequence[tuple[np.ndarray, int]], *, threshold: float = THRESHOLD
) -> float:
    """The similarity, or ``consent_voice_mismatch`` when the clip is not the recordings' voice."""
    score = similarity(clip16k, recordings)
    if score is None or score < threshold:
        raise PersonaError(
            "consent_voice_mismatch",
            "the consent recording is not the voice of the training recordings: "
            "the person whose voice is trained must read the sentence",
            params={"similarity": score, "threshold": threshold},
        )
    return score
