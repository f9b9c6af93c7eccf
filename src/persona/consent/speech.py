"""Is a consent clip someone speaking? Torch-free, so the web process can refuse a bad clip at once.

Two measures on the clip at 16 kHz: seconds of speech by WebRTC's voice activity detector
(30 ms frames, aggressiveness 3: the strictest, which still keeps read speech) and, of those
frames, the share whose spectrum is not flat (speech has formants and harmonics; hiss, hum-free
noise and clicks are flat or empty), plus the clip's loudness modulation (the spread of its
10 ms levels in dB: syllables come and go, a held chord or hiss does not). A clip passes when it
holds ``MIN_SPEECH_S`` seconds of such frames, moves by ``MIN_MODULATION_DB`` and is not longer
than ``MAX_CLIP_S``. This is a first, cheap refusal with a clear reason; whose voice it is decides
``persona.consent.speaker``. Figures behind the limits: benchmarks/README.md
("Consent gate").
"""

from __future__ import annotations

import dataclasses

import numpy as np

from persona.errors import PersonaError

SR = 16000
FRAME = 480  # 30 ms at 16 kHz, one of the frame sizes webrtcvad accepts
MIN_SPEECH_S = 2.0  # the sentence takes 4-8 s to read; 2 s of speech is a floor, not a target
MAX_CLIP_S = 60.0
# Spectral flatness (geometric / arithmetic mean of the power spectrum) of a speech frame is
# typically 0.01-0.2; white noise sits near 0.5-0.6. Frames above this count as noise.
MAX_FLATNESS = 0.35
# Read speech measured 9.5-11.7 dB (10.7 with noise at 20 dB SNR, 6.5 at 10 dB); a held chord 1.7,
# white noise 0.5.
MIN_MODULATION_DB = 5.0


@dataclasses.dataclass(frozen=True)
class SpeechFacts:
    duration_s: float
    speech_s: float  # frames the VAD calls speech and whose spectrum is not flat
    vad_s: float  # frames the VAD calls speech
    modulation_db: float  # standard deviation of the 10 ms levels within 45 dB of the loudest


def _flatness(frames: np.ndarray) -> np.ndarray:
    spec = np.abs(np.fft.rfft(frames * np.hanning(frames.shape[1]), axis=1)) ** 2 + 1e-12
    return np.exp(np.mean(np.log(spec), axis=1)) / np.mean(spec, axis=1)


def measure(audio16k: np.ndarray) -> SpeechFacts:
    """Speech seconds of a mono 16 kHz float clip."""
    import webrtcvad

    x = np.asarray(audio16k, dtype=np.float32)
    x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    duration = len(x) / SR
    n = len(x) // FRAME
    if n == 0:
        return SpeechFacts(duration, 0.0, 0.0, 0.0)
    peak = float(np.abs(x).max())
    if peak <= 10 ** (-60 / 20):  # digital silence: nothing to find
        return SpeechFacts(duration, 0.0, 0.0, 0.0)
    frames = x[: n * FRAME].reshape(n, FRAME)
    pcm = (np.clip(frames / peak * 0.9, -1, 1) * 32767).astype(np.int16)
    vad = webrtcvad.Vad(3)
    voiced = np.array([vad.is_speech(f.tobytes(), SR) for f in pcm], dtype=bool)
    loud = np.sqrt(np.mean(frames**2, axis=1)) > peak * 10 ** (-40 / 20)
    speechy = voiced & loud & (_flatness(frames) < MAX_FLATNESS)
    seconds = FRAME / SR
    return SpeechFacts(
        duration, float(speechy.sum()) * seconds, float(voiced.sum()) * seconds, _modulation_db(x)
    )


def _modulation_db(x: np.ndarray) -> float:
    n = len(x) // 160
    if n < 2:
        return 0.0
    level = 20 * np.log10(np.sqrt(np.mean(x[: n * 160].reshape(n, 160) ** 2, axis=1)) + 1e-9)
    return float(np.std(level[level > level.max() - 45]))


def check_clip(audio16k: np.ndarray, *, file: str) -> SpeechFacts:
    """The clip's speech facts, or a PersonaError a person can act on (``file`` names their clip)."""
    facts = measure(audio16k)
    params = {"file": file, "seconds": round(facts.speech_s, 1), "min_seconds": MIN_SPEECH_S}
    if facts.duration_s > MAX_CLIP_S:
        raise PersonaError(
            "consent_too_long",
            f"{file}: the consent recording is longer than {MAX_CLIP_S:.0f} s; read the sentence once",
            params={**params, "max_seconds": MAX_CLIP_S},
        )
    if facts.vad_s == 0.0 and facts.speech_s == 0.0:
        raise PersonaError("consent_silent", f"{file}: the consent recording is silent", params=params)
    if (
        facts.speech_s < MIN_SPEECH_S
        and facts.vad_s >= MIN_SPEECH_S
        or facts.modulation_db < MIN_MODULATION_DB
    ):
        raise PersonaError(
            "consent_not_speech", f"{file}: the consent recording does not sound like speech", params=params
        )
    if facts.speech_s < MIN_SPEECH_S:
        raise PersonaError(
            "consent_too_short",
            f"{file}: the consent recording holds {facts.speech_s:.1f} s of speech; read the whole sentence",
            params=params,
        )
    return facts
