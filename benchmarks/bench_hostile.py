"""Hostile model files: peak RSS growth and time until each is refused.

Each crafted file (``persona.testing.hostile.HOSTILE``: configs claiming huge networks, a
deflate-compressed ``.pth``, billion-laughs and self-containing metadata entries, stride-0
weights claiming 12 M or 205 M values, ``.index`` files with a multiplied length field, an
``ntotal`` of 10^12, an inverted list of 10^9 vectors or an over-long sparse list table) is
checked the way an upload checks it: in the limited child of ``persona.library.isolated``, which
reports its own peak RSS growth (VmHWM after a reset) and CPU time; the wall time includes the
fork and the round trip. ``*_worker`` rows load the index the way a cover does, in a fresh
interpreter (``ru_maxrss`` growth).

Usage: ``.venv/bin/python benchmarks/bench_hostile.py``
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from persona.testing.hostile import HOSTILE, refusal_in_child


def main() -> None:
    print(f"load average: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} CPUs")
    print(f"{'file':28} {'size KB':>8} {'code':>14} {'RSS growth MB':>14} {'CPU ms':>7} {'wall ms':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        refusal_in_child("model", HOSTILE["pth_deflated"][0](Path(tmp) / "warm.pth"))  # starts the forkserver
        for name, (make, kind) in HOSTILE.items():
            path = make(Path(tmp) / (name + (".pth" if kind == "model" else ".index")))
            got = refusal_in_child(kind, path)
            print(
                f"{name:28} {path.stat().st_size / 1024:8.0f} {got['code']!s:>14} {got['rss_growth_mb']:14.1f}"
                f" {got['cpu_s'] * 1000:7.0f} {got['wall_s'] * 1000:8.0f}"
            )


if __name__ == "__main__":
    main()
