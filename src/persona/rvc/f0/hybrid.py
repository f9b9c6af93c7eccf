"""Hybrid pitch: several estimators at once, combined frame by frame by their median.

Named as Applio and the RVC forks name it, ``hybrid[rmvpe+crepe]`` (2 to 4 distinct methods).
Applio's ``get_f0_hybrid`` takes ``np.nanmedian`` over the methods' curves; Persona counts 0 Hz as
"unvoiced" instead of as a pitch of 0: a frame is voiced when more than half of the methods hear a
pitch there, and then takes the median of those pitches (so one octave error among three methods
is outvoted, and one method's false voicing in a breath does not become a pitch). Numpy only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from persona.errors import PersonaError

PREFIX = "hybrid"
_PATTERN = re.compile(r"^hybrid\[([a-z0-9+ ]+)\]$")


def parse(method: str, known: Sequence[str]) -> tuple[str, ...] | None:
    """The methods inside ``hybrid[a+b]``; None for a plain method name; PersonaError when malformed."""
    text = str(method).strip().lower()
    if not text.startswith(PREFIX):
        return None
    match = _PATTERN.match(text)
    parts = tuple(p.strip() for p in match.group(1).split("+")) if match else ()
    if not 2 <= len(parts) <= 4 or len(set(parts)) != len(parts) or any(p not in known for p in parts):
        raise PersonaError(
            "f0_method_invalid",
            f"{method!r} is not a valid hybrid; write hybrid[a+b] with 2-4 different methods of "
            f"{', '.join(known)}",
        )
    return parts


def combine(curves: Sequence[np.ndarray]) -> np.ndarray:
    """Frame-wise median of the voiced estimates where a majority is voiced, else 0 Hz."""
    n = min(len(c) for c in curves)
    stack = np.stack([np.asarray(c, dtype=np.float64)[:n] for c in curves])
    voiced = stack > 0
    majority = voiced.sum(axis=0) * 2 > len(curves)
    masked = np.where(voiced, stack, np.nan)
    out = np.zeros(n)
    if majority.any():
        out[majority] = np.nanmedian(masked[:, majority], axis=0)
    return out
