"""Audio that could explode in memory: peak RSS growth and time of decoding the largest accepted
files, and of refusing a dense one (issue 24 item 2).

Files (written block by block into a temporary folder): the longest song accepted at a common
rate (20 min, 48 kHz stereo, PCM16), a file exactly at the density budget (5 min, 8 channels,
96 kHz: the samples of 20 min of 96 kHz stereo), and the issue's 5-minute 8-channel 384 kHz
FLAC (silence, 2-3 MB). Each is decoded in a fresh interpreter the way a cover decodes its song
(``decode_song``: 44.1/48 kHz stereo) and the way conversion reads audio (16 kHz mono), which
reports the growth of its peak RSS (``ru_maxrss``), CPU and wall time.

Usage: ``.venv/bin/python benchmarks/bench_hostile_audio.py``
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

_CHILD = r"""
import json, resource, sys, time
import numpy, soundfile, soxr  # noqa: F401 - imported before the baseline
from pathlib import Path
from persona.errors import PersonaError
from persona.settings import Settings
path, how = sys.argv[1], sys.argv[2]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, c0 = time.perf_counter(), time.process_time()
code = None
try:
    if how == "song":
        from persona.cover.pipeline import decode_song
        out = Path(sys.argv[3])
        decode_song(Settings(home=out), Path(path), out)
    else:
        from persona.audio.io import load_audio
        load_audio(path, sr=16000, mono=True, max_seconds=20 * 60)
except PersonaError as exc:
    code = exc.code
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"code": code, "growth_mb": (after - before) / 1024, "cpu_s": time.process_time() - c0,
                  "wall_s": time.perf_counter() - t0}))
"""


def _write(
    path: Path, *, channels: int, rate: int, seconds: float, fmt: str, subtype: str, silent=False
) -> Path:
    rng = np.random.default_rng(0)
    with sf.SoundFile(str(path), "w", rate, channels, format=fmt, subtype=subtype) as f:
        left = int(rate * seconds)
        while left:
            k = min(left, 1 << 18)
            block = (
                np.zeros((k, channels), np.float32) if silent else rng.standard_normal((k, channels)) * 0.1
            )
            f.write(block.astype(np.float32))
            left -= k
    return path


def main() -> None:
    print(f"load average: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = {
            "song_20min_48k_stereo": _write(
                tmp / "a.wav", channels=2, rate=48000, seconds=1200, fmt="WAV", subtype="PCM_16"
            ),
            "budget_5min_8ch_96k": _write(
                tmp / "b.wav", channels=8, rate=96000, seconds=300, fmt="WAV", subtype="PCM_16"
            ),
            "issue_5min_8ch_384k_flac": _write(
                tmp / "c.flac",
                channels=8,
                rate=384000,
                seconds=300,
                fmt="FLAC",
                subtype="PCM_16",
                silent=True,
            ),
        }
        print(
            f"{'file':26} {'size MB':>8} {'decoded as':>14} {'code':>16} {'RSS growth MB':>14} {'CPU s':>6} {'wall s':>7}"
        )
        for name, path in files.items():
            for how in ("song", "mono16k"):
                work = tmp / f"work-{name}-{how}"
                work.mkdir()
                out = subprocess.run(
                    [sys.executable, "-c", _CHILD, str(path), how, str(work)], capture_output=True, text=True
                )
                if out.returncode:
                    print(name, how, "failed:", out.stderr[-500:])
                    continue
                got = json.loads(out.stdout.strip().splitlines()[-1])
                print(
                    f"{name:26} {path.stat().st_size / 2**20:8.1f} {how:>14} {got['code']!s:>16}"
                    f" {got['growth_mb']:14.0f} {got['cpu_s']:6.1f} {got['wall_s']:7.1f}"
                )


if __name__ == "__main__":
    main()
