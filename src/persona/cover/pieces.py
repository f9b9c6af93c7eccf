"""Where a cover cuts the lead vocal into conversion pieces, decided as the vocal arrives.

A cover converts its vocal piece by piece so the first piece can be heard while the rest is still
being separated and converted. ``VocalPlanner`` takes the separated vocal in spans (any sizes)
and gives back every piece it can already decide; a decision only ever looks at audio up to the
piece's nominal end, so the cuts are the same whether the vocal comes in spans or all at once.

- The first sung piece ends near ``PiecePlan.first_s`` into the song (at least ``first_min_s``
  after it starts), so the first ~20 s can be heard early whatever the intro; later pieces are at
  most ``piece_s`` (30 s: within one RVC window, so the pipeline makes no inner cut). A piece ends
  at the quietest 50 ms within ``quiet_s`` before that length, as RVC cuts its own windows.
- Spans the separator left silent (50 ms frames whose peak stays under ``SILENCE_DB`` for at
  least ``MIN_SILENT_S``: intros, instrumental breaks; shorter rests cost more to cut out than to
  convert, as every piece adds RVC's 2 s of padding) are not converted: they become silent
  pieces (zeros). The converted piece before one reaches ``EDGE_S`` into it and fades out over
  ``FADE_S``; the piece after starts ``EDGE_S`` before the voice returns and fades in.
Frames sit on one grid from the song's start, so every rule reads the same frames in both modes.
"""

from __future__ import annotations

import dataclasses

import numpy as np

SILENCE_DB = -50.0  # a frame whose peak stays under this is separator leftovers, not singing
FRAME_S = 0.05
MIN_SILENT_S = 3.0  # shorter rests are converted (a cut costs RVC's 2 s of padding + the edges)
EDGE_S = 0.25
FADE_S = 0.2


@dataclasses.dataclass(frozen=True)
class PiecePlan:
    """How a cover is cut into pieces (seconds)."""

    first_s: float = 22.0  # the first sung piece ends this far into the song, cut within first_quiet_s
    first_quiet_s: float = 1.0
    first_min_s: float = 4.0  # ...or this long after it starts, if later
    piece_s: float = 30.0  # the later pieces, cut within their last quiet_s
    quiet_s: float = 5.0
    segment_s: float = 28.0  # separation segments (whole model steps near this: HTDemucs 29.25 s)
    skip_silence: bool = True


@dataclasses.dataclass(frozen=True)
class Piece:
    start: int  # song frames
    end: int
    silent: bool  # not converted: zeros
    fade_in: bool = False  # starts just before the voice returns from a silent span
    fade_out: bool = False  # ends just inside a silent span


class VocalPlanner:
    """Cuts a mono vocal (song rate) into pieces as it arrives; ``push`` spans, then ``pieces``."""

    def __init__(self, sr: int, plan: PiecePlan = PiecePlan()) -> None:
        self.sr = sr
        self.plan = plan
        self.hop = max(int(FRAME_S * sr), 1)
        self.edge = int(EDGE_S * sr)
        self.min_run = max(int(round(MIN_SILENT_S / FRAME_S)), 1)
        self.silence = 10 ** (SILENCE_DB / 20)
        self.buf = np.zeros(0, np.float32)
        self.base = 0  # song frame of buf[0]
        self.pos = 0  # where the next piece starts
        self.first = True
        self.in_silence = False  # the previous piece ended inside a silent span
        self.fade_next = False

    @property
    def available(self) -> int:
        return self.base + len(self.buf)

    def push(self, vocal: np.ndarray) -> None:
        vocal = np.asarray(vocal, np.float32)
        if vocal.ndim == 2:
            vocal = vocal.mean(axis=0)
        self.buf = np.concatenate([self.buf, vocal])

    def pieces(self, final: bool = False) -> list[tuple[Piece, np.ndarray]]:
        """Every piece decidable now with its audio (``final``: nothing more will come)."""
        out = []
        while self.pos < self.available:
            piece = self._next(final)
            if piece is None:
                break
            audio = self.buf[piece.start - self.base : piece.end - self.base]
            out.append((piece, audio))
            self.pos = piece.end
            self.first = self.first and piece.silent  # the first *sung* piece is the short one
            drop = self.pos - self.base
            self.buf, self.base = self.buf[drop:], self.pos
        return out

    # -- the rules -----------------------------------------------------------------------------

    def _silent(self, frame: int) -> bool:
        a = frame * self.hop - self.base
        seg = self.buf[max(a, 0) : a + self.hop]
        return float(np.max(np.abs(seg), initial=0.0)) < self.silence

    def _complete_frames(self) -> int:
        """Frames wholly available (the grid starts at the song's start)."""
        return self.available // self.hop

    def _next(self, final: bool) -> Piece | None:
        s, n = self.pos, self.available
        if self.in_silence:
            return self._silent_piece(final)
        skip = self.plan.skip_silence
        if skip and self._run_from(-(-s // self.hop), final) >= self.min_run:
            self.in_silence = True
            return self._silent_piece(final)
        p = self.plan
        if self.first:
            limit = max(int(p.first_s * self.sr), s + int(p.first_min_s * self.sr))
            quiet = int(p.first_quiet_s * self.sr)
        else:
            limit, quiet = s + int(p.piece_s * self.sr), int(p.quiet_s * self.sr)
        if n <= limit and not final:
            return None  # the rules below read frames up to s + length
        fade_in, self.fade_next = self.fade_next, False
        if skip:
            # The first silent run that fits in this piece, starting past the piece's lead-in.
            first = -(-(s + self.edge) // self.hop) + 1
            last = (min(limit, n) - self.edge) // self.hop - self.min_run
            f = first
            while f <= last:
                run = self._run_from(f, final, cap=self.min_run)
                if run >= self.min_run:
                    self.in_silence = True
                    return Piece(s, f * self.hop + self.edge, False, fade_in, True)
                f += max(run, 1)
        if n <= limit:  # final (else n >= limit): the rest of the song
            return Piece(s, n, False, fade_in, False)
        return Piece(s, self._quietest(limit - quiet, limit), False, fade_in, False)

    def _run_from(self, frame: int, final: bool, cap: int | None = None) -> int:
        """Silent frames from ``frame`` on (up to ``cap``); the song's end counts as silence."""
        total = self._complete_frames()
        run = 0
        while cap is None or run < cap:
            f = frame + run
            if f >= total:
                if final:
                    return cap if cap is not None else run + 1
                return run
            if not self._silent(f):
                return run
            run += 1
        return run

    def _silent_piece(self, final: bool) -> Piece | None:
        """Zeros from pos to EDGE_S before the voice returns (as far as that is known yet)."""
        s, n = self.pos, self.available
        total = self._complete_frames()
        f = s // self.hop
        while f < total and self._silent(f):
            f += 1
        if f < total:  # the voice returns at frame f
            end = max(f * self.hop - self.edge, s)
            self.in_silence = False
            self.fade_next = True
            if end <= s:
                return self._next(final)
            return Piece(s, end, True)
        if final:
            self.in_silence = False
            return Piece(s, n, True)
        end = total * self.hop - self.edge
        return Piece(s, end, True) if end - s >= self.hop else None

    def _quietest(self, lo: int, hi: int) -> int:
        lo = max(lo, self.pos + 1)
        seg = self.buf[lo - self.base : hi - self.base]
        frames = len(seg) // self.hop
        if not frames:
            return hi
        energy = (seg[: frames * self.hop].reshape(frames, self.hop) ** 2).sum(axis=1)
        return lo + int(np.argmin(energy)) * self.hop + self.hop // 2


def fade_edges(audio: np.ndarray, piece: Piece, sr: int) -> np.ndarray:
    """Fade a converted piece in/out where it meets a skipped silent span."""
    n = min(int(FADE_S * sr), len(audio))
    if n and (piece.fade_in or piece.fade_out):
        audio = audio.copy()
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        if piece.fade_in:
            audio[:n] *= ramp
        if piece.fade_out:
            audio[-n:] *= ramp[::-1]
    return audio
