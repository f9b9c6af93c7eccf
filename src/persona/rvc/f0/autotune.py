"""Autotune: pull every voiced f0 frame towards the nearest note of a scale, with a strength.

Applio's ``Autotune.autotune_f0`` moves each frame linearly in Hz towards the closest equal-
tempered note (``f + (note - f) * strength``) over the whole chromatic scale. Persona does the same
move in cents (``strength`` 1 lands exactly on the note, 0.5 halves the distance in pitch as the
ear hears it) and can restrict the notes to a key ("C major", "F# minor", "Bb major"...). Frames at
0 Hz (unvoiced) stay 0. It runs after the semitone shift, so a key names the key of the output.
Light: numpy only, so the server validates keys without torch.
"""

from __future__ import annotations

import numpy as np

from persona.errors import PersonaError

A4_HZ = 440.0
A4_MIDI = 69
CHROMATIC = "chromatic"
_PITCH_CLASSES = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_MODES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
# The 24 keys the page offers (sharps for the sharp keys, flats where musicians write them).
KEY_NAMES: tuple[str, ...] = (
    CHROMATIC,
    *(f"{t} major" for t in ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")),
    *(f"{t} minor" for t in ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")),
)


def scale_pitch_classes(key: str) -> tuple[int, ...]:
    """The pitch classes (0 = C .. 11 = B) of ``key``: "chromatic", or "<tonic> major|minor"."""
    text = " ".join(str(key).strip().lower().split())
    if text == CHROMATIC:
        return tuple(range(12))
    parts = text.split(" ")
    if len(parts) == 2 and parts[1] in _MODES and parts[0] and parts[0][0] in _PITCH_CLASSES:
        tonic, accidentals = parts[0][0], parts[0][1:]
        if accidentals in ("", "#", "b"):
            root = (_PITCH_CLASSES[tonic] + {"": 0, "#": 1, "b": -1}[accidentals]) % 12
            return tuple(sorted((root + step) % 12 for step in _MODES[parts[1]]))
    raise PersonaError(
        "autotune_key_invalid",
        f"{key!r} is not a key; use 'chromatic' or a tonic and mode such as 'C major' or 'F# minor'",
    )


def autotune(f0: np.ndarray, strength: float, key: str = CHROMATIC) -> np.ndarray:
    """A copy of ``f0`` (Hz) with voiced frames moved ``strength`` (0..1) of the way to the key's nearest note."""
    f0 = np.asarray(f0, dtype=np.float64)
    out = f0.copy()
    if strength <= 0:
        return out.astype(f0.dtype)
    classes = np.array(scale_pitch_classes(key))
    voiced = f0 > 0
    if not voiced.any():
        return out
    midi = A4_MIDI + 12 * np.log2(f0[voiced] / A4_HZ)
    # Nearest allowed note: check the candidates around each frame (one octave either way).
    base = np.floor(midi / 12)[:, None] * 12
    candidates = (base + np.concatenate([classes - 12, classes, classes + 12])[None, :]).astype(np.float64)
    nearest = candidates[np.arange(len(midi)), np.argmin(np.abs(candidates - midi[:, None]), axis=1)]
    tuned = midi + (nearest - midi) * min(float(strength), 1.0)
    out[voiced] = A4_HZ * 2 ** ((tuned - A4_MIDI) / 12)
    return out
