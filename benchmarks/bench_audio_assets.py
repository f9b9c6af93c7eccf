"""Speed of audio decode/encode and of asset download/verification (not a test).

Run: ``.venv/bin/python benchmarks/bench_audio_assets.py``. Prints one line per measurement.
Uses synthetic audio (``persona.testing.audio``) and a local HTTP server; no network.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from persona.assets import Asset, AssetFile, AssetManager
from persona.audio.io import load_audio, probe_audio, save_audio
from persona.audio.resample import resample
from persona.settings import Settings
from persona.testing.audio import SUFFIX, song_like, write_audio
from persona.testing.http import FileServer


def timed(label: str, fn, repeat: int = 3):
    """Best wall time and the CPU time of that run (the CPU figure is robust on a busy machine)."""
    best, cpu = float("inf"), 0.0
    result = None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        wall = time.perf_counter() - t0
        if wall < best:
            best, cpu = wall, time.process_time() - c0
    print(f"{label:<58} wall {best * 1000:8.1f} ms  cpu {cpu * 1000:8.1f} ms", flush=True)
    return result


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="persona-bench-"))
    seconds, sr = 60.0, 44100
    mix, _, _ = song_like(seconds, sr, seed=0)
    print(f"input: {seconds:.0f} s stereo song_like at {sr} Hz")
    for fmt in ("wav16", "flac", "mp3", "ogg", "m4a"):
        path = write_audio(tmp / f"song{SUFFIX[fmt]}", mix, sr, fmt)
        timed(f"probe_audio {fmt}", lambda p=path: probe_audio(p))
        timed(f"load_audio {fmt} -> stereo native rate", lambda p=path: load_audio(p, mono=False))
        timed(f"load_audio {fmt} -> mono 16 kHz", lambda p=path: load_audio(p, sr=16000))
    timed("resample stereo 44.1 -> 40 kHz (60 s)", lambda: resample(mix, sr, 40000))
    timed("save_audio wav float32 (60 s stereo)", lambda: save_audio(tmp / "o.wav", mix, sr))
    timed("save_audio wav16 (60 s stereo)", lambda: save_audio(tmp / "o16.wav", mix, sr, format="wav16"))
    timed("save_audio mp3 320k (60 s stereo)", lambda: save_audio(tmp / "o.mp3", mix, sr), repeat=1)

    size = 200 * 1024 * 1024
    blob = np.random.default_rng(0).integers(0, 256, size, dtype=np.uint8).tobytes()
    sha = hashlib.sha256(blob).hexdigest()
    with FileServer() as server:
        server.put("/x/resolve/main/big.bin", blob)
        asset = Asset(
            "big.bin",
            (AssetFile("big.bin", "https://huggingface.co/x/resolve/main/big.bin", size, sha),),
            "",
            "t",
        )
        settings = Settings(home=tmp / "home", assets_dir=tmp / "assets", asset_base_url=server.url)
        manager = AssetManager(settings, {"big.bin": asset})
        t0 = time.perf_counter()
        manager.download(["big.bin"])
        dt = time.perf_counter() - t0
        print(
            f"{'download + sha256 verify 200 MiB (127.0.0.1)':<58} {dt * 1000:8.1f} ms  ({size / dt / 1e6:.0f} MB/s)"
        )
        (tmp / "assets" / ".persona-verified.json").unlink()
        timed("status() first time (hashes 200 MiB)", lambda: manager.status(), repeat=1)
        timed("status() again (size+mtime cache)", lambda: manager.status())
    return 0


if __name__ == "__main__":
    sys.exit(main())
