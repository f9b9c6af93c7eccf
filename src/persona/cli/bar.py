"""Render the progress protocol as a terminal progress bar (quiet when not a terminal)."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


class ProgressBar:
    """A ProgressFn that draws one bar over the whole job, naming the current stage."""

    def __init__(self, description: str, enabled: bool | None = None) -> None:
        enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar = tqdm(
            total=1000,
            desc=description,
            disable=not enabled,
            leave=True,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}",
        )
        self._stage = ""

    def __call__(self, stage: str, fraction: float, message: str = "", **metrics: Any) -> None:
        target = int(round(min(max(fraction, 0.0), 1.0) * 1000))
        if target > self._bar.n:
            self._bar.update(target - self._bar.n)
        shown = {k: (f"{v:.3g}" if isinstance(v, float) else v) for k, v in metrics.items()}
        self._bar.set_postfix_str(" ".join([stage, message, *(f"{k}={v}" for k, v in shown.items())]).strip())

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
