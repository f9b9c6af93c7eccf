"""Benchmark long inputs (issue 22 item 3): peak memory of `persona convert` on a 20-minute vocal.

Full-size random-weight models in RVC's formats (the same files as ``bench_convert.py``: HuBERT
base, RMVPE, a v2 40k f0 model, a 2000-vector index; random weights cost what trained ones do).
Every measurement is its own process; peak RSS is that process's ``ru_maxrss`` (``os.wait4``).

What runs (``--what``, several allowed):

* ``f0``: the pitch stage alone, as the pipeline calls it (the high-passed, 1 s reflect-padded
  16 kHz vocal into ``compute_f0``), for each ``--methods`` (default rmvpe, fcpe, pm, swiftf0);
* ``stub``: the whole ``persona convert`` command (decode, pitch, windows, loudness mix,
  watermark, write) with each window's HuBERT + synthesizer replaced by silence of the right
  length: everything whose memory grows with the input, in minutes instead of an hour;
* ``convert``: the whole ``persona convert`` command, nothing stubbed (~2.2 CPU-s per second of
  vocal on a 2-core AMD EPYC: ~45 minutes of two busy cores for 20 minutes of vocal).

``--baseline-src OLD/src`` runs the same children on another source tree too (the "before").

    python benchmarks/bench_long_input.py [--seconds 1200] [--what f0 stub] [--baseline-src DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def long_vocal(seconds: float) -> np.ndarray:
    """A 16 kHz sung-like vocal: 5 s notes at changing pitches with silences, repeated."""
    from persona.testing.content import voice_like

    notes = [voice_like(5.0, seed=i, f0=f) for i, f in enumerate([180, 220, 260, 150, 330, 200, 240, 170])]
    one = np.concatenate(notes)
    return np.tile(one, int(np.ceil(seconds * 16000 / len(one))))[: int(seconds * 16000)]


def ensure_input(folder: Path, seconds: float) -> tuple[Path, Path]:
    """The vocal as a 44.1 kHz float wav (what people give) and as 16 kHz npy."""
    import soundfile as sf

    from persona.audio.resample import resample

    wav, npy = folder / f"long_{seconds:g}s.wav", folder / f"long_{seconds:g}s_16k.npy"
    if not wav.is_file() or not npy.is_file():
        x16 = long_vocal(seconds).astype(np.float32)
        np.save(npy, x16)
        sf.write(wav, resample(x16, 16000, 44100), 44100, subtype="FLOAT")
    return wav, npy


def child_f0(args: argparse.Namespace) -> None:
    from persona.rvc.f0 import compute_f0
    from persona.rvc.pipeline import highpass

    fx = json.loads(Path(args.fixtures, "fixtures.json").read_text())
    audio = highpass(np.load(args.input))
    audio = np.pad(audio, (16000, 16000), mode="reflect")
    t0, c0 = time.perf_counter(), time.process_time()
    compute_f0(
        args.method, audio, p_len=len(audio) // 160, pitch=0.0, filter_radius=3, rmvpe_path=fx["rmvpe"]
    )
    print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}))


def child_convert(args: argparse.Namespace) -> None:
    from persona.cli import main

    if args.child == "stub":  # each window's models replaced by silence of the right length
        from persona.rvc import pipeline

        def window(self, segment, pitch, pitchf, sid, options):  # noqa: ANN001, ANN202
            return np.zeros(segment.shape[0] // pipeline.WINDOW * (self.tgt_sr // 100), dtype=np.float32)

        pipeline.Pipeline.window = window
    fx = json.loads(Path(args.fixtures, "fixtures.json").read_text())
    with tempfile.TemporaryDirectory() as home:
        t0, c0 = time.perf_counter(), time.process_time()
        rc = main([
            "--home", home, "--assets", args.fixtures, "--device", "cpu",
            "convert", "--model", fx["v2_f0"], "--index", fx["index_v2"], "--input", args.input,
            "--output", str(Path(home) / "out.wav"), "--f0-method", args.method, "--quiet",
        ])  # fmt: skip
        if rc:
            raise SystemExit(rc)
        print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}))


def run_measured(cmd: list[str], env: dict) -> tuple[dict, float, float]:
    """Run a child; (its last-line JSON, peak RSS MiB, CPU s of the whole process)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return {"failed": os.waitstatus_to_exitcode(status)}, usage.ru_maxrss / 1024, 0.0
    last = [line for line in out.strip().splitlines() if line.startswith("{")][-1]
    return json.loads(last), usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main() -> None:
    sys.path.insert(0, str(HERE))
    from bench_convert import ensure_fixtures

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixtures", default=str(Path(tempfile.gettempdir()) / "persona_bench_convert"))
    ap.add_argument("--seconds", type=float, default=1200.0)
    ap.add_argument("--what", nargs="+", default=["f0", "stub"], choices=["f0", "stub", "convert"])
    ap.add_argument("--methods", nargs="+", default=["rmvpe", "fcpe", "pm", "swiftf0"])
    ap.add_argument("--baseline-src", help="also run every child from this source tree (the 'before')")
    ap.add_argument("--child", choices=["f0", "stub", "convert"], help=argparse.SUPPRESS)
    ap.add_argument("--method", default="rmvpe", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "f0":
        child_f0(args)
        return
    if args.child:
        child_convert(args)
        return

    folder = Path(args.fixtures)
    folder.mkdir(parents=True, exist_ok=True)
    ensure_fixtures(folder)
    wav, npy = ensure_input(folder, args.seconds)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; input {args.seconds:g} s; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    trees = [("ours", str(HERE.parent / "src"))]
    if args.baseline_src:
        trees.insert(0, ("before", str(Path(args.baseline_src).resolve())))
    print(
        "| tree | what | method | wall s | CPU s (process) | peak RSS MiB | load |\n|---|---|---|---:|---:|---:|---:|"
    )
    for what in args.what:
        for method in args.methods if what == "f0" else args.methods[:1]:  # stub/convert: the first
            for name, src in trees:
                inp = npy if what == "f0" else wav
                cmd = [sys.executable, __file__, "--child", what, "--method", method,
                       "--fixtures", str(folder), "--input", str(inp)]  # fmt: skip
                load = os.getloadavg()[0]
                res, rss, cpu = run_measured(cmd, {**os.environ, "PYTHONPATH": src})
                wall = f"{res['wall']:.1f}" if "wall" in res else f"failed ({res.get('failed')})"
                print(
                    f"| {name} | {what} | {method} | {wall} | {cpu:.1f} | {rss:.0f} | {load:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
