"""Formant shift: move the voice's timbre (spectral envelope) up or down, keeping its pitch.

Applio and rvc-next do this with ``stftpitchshift`` (STFT 1024 / hop 32 at the audio's rate, a
cepstral lifter of 0.8 ms separating envelope from excitation) on the input before conversion: the
envelope is resampled along frequency by ``distortion`` while the harmonics stay where they are
(``factors=1``). Persona uses the same library and settings and takes the shift in semitones
(factor ``2 ** (semitones / 12)``; +2 makes a voice brighter / "smaller", -2 darker / "bigger").
"""

from __future__ import annotations

import numpy as np

from persona.errors import PersonaError

FRAME = 1024
HOP = 32
QUEFRENCY_S = 0.8e-3
FORMANT_RANGE = (-12.0, 12.0)


def formant_factor(semitones: float) -> float:
    return float(2 ** (float(semitones) / 12))


def shift_formants(audio: np.ndarray, sr: int, semitones: float) -> np.ndarray:
    """``audio`` (mono float) with its formants moved by ``semitones``; 0 returns it unchanged."""
    if not semitones:
        return np.asarray(audio, dtype=np.float32)
    if not FORMANT_RANGE[0] <= float(semitones) <= FORMANT_RANGE[1]:
        raise PersonaError("option_invalid", f"formant must be between -12 and 12 semitones, got {semitones}")
    from stftpitchshift import StftPitchShift

    x = np.asarray(audio, dtype=np.float64)
    shifter = StftPitchShift(FRAME, HOP, sr)
    y = shifter.shiftpitch(x, factors=1, quefrency=QUEFRENCY_S, distortion=formant_factor(semitones))
    y = np.asarray(y, dtype=np.float32)[: x.shape[0]]
    if y.shape[0] < x.shape[0]:
        y = np.pad(y, (0, x.shape[0] - y.shape[0]))
    return np.nan_to_num(y)
