"""A cover made piece by piece: separated spans in, converted pieces and the playable part out.

``CoverStream`` is fed the separated stems span by span, in song order (from the separator as it
goes, or read back from finished stem files: ``replay``). Each stem it converts (the lead, and the
backing when that is converted too) is cut by a ``VocalPlanner``; every piece is converted as
soon as the planner decides it and appended to that stem's converted file (mono float WAV at the
song's rate, read by the finished mix). With a ``PreviewMixer`` the converted pieces and the other
stems' spans are mixed into the playable part, and ``on_ready(frames)`` says how far it reaches.
The stream owns no model: ``convert(name, piece, audio) -> audio`` converts each sung piece.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

from persona.audio.preview import PreviewMixer
from persona.cover.pieces import Piece, PiecePlan, VocalPlanner
from persona.progress import NEVER_CANCELLED, CancelToken

ConvertPiece = Callable[[str, Piece, np.ndarray], np.ndarray]


class CoverStream:
    def __init__(
        self,
        *,
        sr: int,
        frames: int,
        plan: PiecePlan,
        converted: dict[str, Path],  # stem name -> its converted file
        convert: ConvertPiece,
        preview: PreviewMixer | None = None,
        on_ready: Callable[[int], None] = lambda frames: None,
        cancel: CancelToken = NEVER_CANCELLED,
    ) -> None:
        self.sr, self.frames = sr, frames
        self.convert = convert
        self.preview = preview
        self.on_ready = on_ready
        self.cancel = cancel
        self.planners = {name: VocalPlanner(sr, plan) for name in converted}
        self.done = dict.fromkeys(converted, 0)  # converted up to (song frames)
        self.pieces = 0  # sung pieces converted
        self.separated = 0
        self._files = contextlib.ExitStack()
        self.writers = {
            name: self._files.enter_context(sf.SoundFile(str(path), "w", sr, 1, subtype="FLOAT"))
            for name, path in converted.items()
        }

    @property
    def converted_to(self) -> int:
        """Every converted stem is done up to here (song frames)."""
        return min(self.done.values()) if self.done else self.separated

    def feed(self, start: int, blocks: dict[str, np.ndarray]) -> None:
        """The next span of every stem (same start and length); converts what it can."""
        if start != self.separated:
            raise ValueError(f"spans must come in order: expected {self.separated}, got {start}")
        for name, block in blocks.items():
            if name in self.planners:
                self.planners[name].push(block)
            elif self.preview is not None and name in self.preview.stems:
                self.preview.add(name, block)
        self.separated = start + next(iter(blocks.values())).shape[-1]
        self._advance(final=False)

    def finish(self) -> None:
        """Everything was fed: convert the rest, flush the playable part, close the files."""
        self._advance(final=True)
        if self.preview is not None:
            self.on_ready(self.preview.mix(flush=True))
        self.close()

    def close(self) -> None:
        self._files.close()

    def _advance(self, final: bool) -> None:
        for name, planner in self.planners.items():
            for piece, audio in planner.pieces(final):
                self.cancel.check()
                if piece.silent:  # left silent by the separator: not converted
                    y = np.zeros(piece.end - piece.start, np.float32)
                else:
                    y = np.asarray(self.convert(name, piece, audio), np.float32)
                self.writers[name].write(y)
                self.writers[name].flush()
                self.done[name] = piece.end
                self.pieces += 0 if piece.silent else 1
                if self.preview is not None:
                    self.preview.add(name, y)
                    self.on_ready(self.preview.mix())
        if self.preview is not None:
            self.on_ready(self.preview.mix())


def replay(
    stream: CoverStream,
    paths: dict[str, Path],
    *,
    start: int = 0,
    block_s: float = 22.0,
    cancel: CancelToken = NEVER_CANCELLED,
) -> None:
    """Feed ``stream`` the stems in ``paths`` (finished files) from ``start`` on, in blocks."""
    files = {name: sf.SoundFile(str(p)) for name, p in paths.items()}
    try:
        block = max(int(block_s * stream.sr), 1)
        pos = start
        total = min(f.frames for f in files.values())
        while pos < total:
            cancel.check()
            n = min(block, total - pos)
            spans = {}
            for name, f in files.items():
                f.seek(pos)
                spans[name] = f.read(n, dtype="float32", always_2d=True).T
            stream.feed(pos, spans)
            pos += n
    finally:
        for f in files.values():
            f.close()
