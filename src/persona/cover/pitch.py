"""Suggested pitch shift: move the song's lead-vocal range into the voice model's range.

The song side: f0 of the separated lead vocal (Praat's autocorrelation pitch via parselmouth,
10 ms steps, 50-1100 Hz, voiced frames only) summarised as median / 5th / 95th percentiles —
the same summary the training code stores as a model's ``voice_profile`` ({median_hz, p5_hz,
p95_hz}). The shift is the whole number of semitones that best centres the song's 5-95 % range
in the model's (in log-frequency, i.e. the mean of the two range mid-points' distance, which is
the median distance when the ranges are symmetric), clamped to +-24.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

PITCH_LIMIT = 24


def f0_profile(vocal: np.ndarray, sr: int) -> dict[str, float] | None:
    """{median_hz, p5_hz, p95_hz} of a mono vocal's voiced frames; None if (almost) unvoiced."""
    import parselmouth

    vocal = np.asarray(vocal, dtype=np.float64)
    if vocal.size < sr // 10:
        return None
    snd = parselmouth.Sound(vocal, sampling_frequency=sr)
    pitch = snd.to_pitch_ac(time_step=0.01, pitch_floor=50.0, pitch_ceiling=1100.0)
    f0 = pitch.selected_array["frequency"]
    voiced = f0[f0 > 0]
    if voiced.size < 20:  # less than 0.2 s of singing: no basis for a suggestion
        return None
    p5, median, p95 = np.percentile(voiced, [5, 50, 95])
    return {"median_hz": float(median), "p5_hz": float(p5), "p95_hz": float(p95)}


def _semitones(a: float, b: float) -> float:
    return 12.0 * math.log2(b / a)


def suggest_shift(song: Mapping[str, float] | None, voice: Mapping[str, float] | None) -> int | None:
    """Semitones to shift the song's vocal so it sits in the voice's range; None when unknown."""
    try:
        s_lo, s_mid, s_hi = (float(song[k]) for k in ("p5_hz", "median_hz", "p95_hz"))  # type: ignore[index]
        v_lo, v_mid, v_hi = (float(voice[k]) for k in ("p5_hz", "median_hz", "p95_hz"))  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        return None
    if min(s_lo, s_mid, s_hi, v_lo, v_mid, v_hi) <= 0:
        return None
    by_median = _semitones(s_mid, v_mid)
    by_range = _semitones(math.sqrt(s_lo * s_hi), math.sqrt(v_lo * v_hi))
    shift = round((by_median + by_range) / 2.0)
    return int(max(-PITCH_LIMIT, min(PITCH_LIMIT, shift)))
