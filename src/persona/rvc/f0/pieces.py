"""Pitch of a long input in bounded pieces, equal to the one-pass curve.

RVC runs each pitch estimator over the whole (padded) input at once, so the estimator's
activations grow with the song: RMVPE's U-Net holds ~50 MB per minute in each of its widest
tensors and reaches several GB on a 20-minute vocal, which is where long inputs crash. Here the
input is cut into pieces of ``PIECE_S`` seconds; each piece is estimated with ``context_s`` of
audio on either side (more than the estimator looks at) and only its own frames are kept, so
every kept frame sees what it saw in one pass. Memory is then bounded by one piece.

What makes a piece's frames line up with the one-pass frames, per estimator (``RULES``):

* frames are ``hop`` samples apart and a piece starts on a multiple of ``step`` frames: RMVPE's
  U-Net pools by 2 five times, so its pieces start on multiples of 32 frames (the pooling grid of
  the one-pass run);
* Praat (``pm``) centres its frame grid in the sound it is given, so a ``pm`` piece is as many
  samples long, modulo the hop, as the whole input: its grid then falls on the whole input's.

Inputs no longer than one piece with its context take the one-pass path unchanged. FCPE is not
cut here: its first layer normalises over the whole time axis (GroupNorm), so ``fcpe.py`` runs it
in pieces itself with whole-input statistics. CREPE (512-frame batches, as torchcrepe) and
SwiftF0 (the library's own windows) already work in bounded pieces.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

SR = 16000
PIECE_S = 60.0  # seconds of frames kept per piece: bounds the estimator's activations


@dataclasses.dataclass(frozen=True)
class PieceRule:
    """How one estimator's frames can be computed piece by piece (see the module docstring)."""

    context_s: float  # audio either side of a piece: more than the estimator's reach
    hop: int = 160  # samples per frame
    step: int = 1  # pieces start on multiples of this many frames
    same_length_mod_hop: bool = False  # Praat: piece length = whole length (mod hop)


RULES: dict[str, PieceRule] = {
    # U-Net receptive field ~15 s at its coarsest level; the BiGRU's memory fades within seconds.
    "rmvpe": PieceRule(context_s=4.0, step=32),
    # WORLD's filters and contour fixing reach well under a second.
    "harvest": PieceRule(context_s=1.0),
    # Praat's path finder (Viterbi) links frames across the input; it settles within seconds.
    "pm": PieceRule(context_s=1.0, same_length_mod_hop=True),
}


def piece_bounds(n: int, rule: PieceRule, piece_s: float | None = None) -> list[tuple[int, int, int, int]]:
    """``(start, stop, keep_from, keep_to)`` for each piece of ``n`` samples: the samples given to
    the estimator and the local frames kept (``keep_to`` -1 = to the end). One piece = one pass."""
    hop, step = rule.hop, rule.step
    piece = max(step, int(round((PIECE_S if piece_s is None else piece_s) * SR / hop / step)) * step)
    ctx = int(math.ceil(rule.context_s * SR / hop / step)) * step
    tail = n % hop if rule.same_length_mod_hop else 0
    out = []
    a = 0  # first frame of this piece
    while True:
        start_frame = max(0, a - ctx)
        b = a + piece
        stop = (b + ctx) * hop + tail
        if stop >= n or (b + ctx + piece // 2) * hop + tail >= n:  # last piece: to the end
            out.append((start_frame * hop, n, a - start_frame, -1))
            return out
        out.append((start_frame * hop, stop, a - start_frame, b - start_frame))
        a = b


def in_pieces(
    estimate: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    rule: PieceRule,
    piece_s: float | None = None,
) -> np.ndarray:
    """``estimate(x)`` (a frame curve) computed piece by piece; one call when ``x`` is short."""
    bounds = piece_bounds(len(x), rule, piece_s)
    if len(bounds) == 1:
        return np.asarray(estimate(x))
    kept = []
    for start, stop, keep_from, keep_to in bounds:
        local = np.asarray(estimate(x[start:stop]))
        kept.append(local[keep_from:] if keep_to < 0 else local[keep_from:keep_to])
    return np.concatenate(kept)
