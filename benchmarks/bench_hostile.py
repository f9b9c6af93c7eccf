"""Hostile model files: peak RSS growth and time until each is refused.

Each crafted file (``persona.testing.hostile.HOSTILE``: a ``.pth`` whose config claims a huge
network, a deflate-compressed ``.pth``, ``.index`` files with a multiplied length field, an
``ntotal`` of 10^12 or an inverted list of 10^9 vectors) is checked in a fresh interpreter
(torch and faiss imported before the baseline), which reports the growth of its peak RSS
(``ru_maxrss``) and the wall and CPU time of the check.

Usage: ``.venv/bin/python benchmarks/bench_hostile.py``
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from persona.testing.hostile import HOSTILE, refusal_in_child


def main() -> None:
    print(f"load average: {os.getloadavg()[0]:.1f} (1 min)")
    print(
        f"{'file':28} {'size KB':>8} {'code':>14} {'RSS growth MB':>14} {'peak RSS MB':>12} {'wall ms':>8} {'CPU ms':>7}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name, (make, kind) in HOSTILE.items():
            path = make(Path(tmp) / (name + (".pth" if kind == "model" else ".index")))
            got = refusal_in_child(kind, path)
            print(
                f"{name:28} {path.stat().st_size / 1024:8.0f} {got['code']!s:>14} {got['rss_growth_mb']:14.1f}"
                f" {got['peak_rss_mb']:12.0f} {got['wall_s'] * 1000:8.1f} {got['cpu_s'] * 1000:7.1f}"
            )


if __name__ == "__main__":
    main()
