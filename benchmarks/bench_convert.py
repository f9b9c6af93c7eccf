"""Benchmark `convert`: real-time factor and peak memory on a 60 s vocal with full-size models.

Full-size random-weight files in RVC's formats (same cost as trained ones): HuBERT base
(transformers folder), RMVPE (``rmvpe.pt``), a v2 40k f0 model (RVC's v2 40k config) and an
RVC index (2000 vectors). Each measurement runs in its own process; peak RSS is that process's
``ru_maxrss``. Ours: ``persona.rvc.convert.convert_file`` twice in one process: "cold" includes
loading every model, "warm" reuses them (the cache a worker keeps).

The reference implementation is not part of this repository. ``--reference-cmd`` runs any command
on the same files and input (placeholders ``{fixtures} {input_npy} {model} {index} {hubert}
{seconds}``) that prints, as its last line, JSON ``{"runs": [seconds, ...], "cpu_runs": [...]}``
(wall and CPU time of each pipeline run, models already loaded); its peak RSS is measured the same way as ours.

    python benchmarks/bench_convert.py [--fixtures DIR] [--seconds 60] [--reference-cmd CMD]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# The environment as given, before importing persona sets its runtime defaults (persona.runtime:
# OpenMP wait policy, oneDNN cache): the reference runs with its own defaults, not ours.
_GIVEN_ENV = dict(os.environ)


def ensure_fixtures(folder: Path) -> dict[str, Path]:
    from persona.testing.pipeline import write_pipeline_fixtures

    marker = folder / "fixtures.json"
    if marker.is_file():
        return {k: Path(v) for k, v in json.loads(marker.read_text()).items()}
    print(f"writing full-size random-weight fixtures into {folder} ...", flush=True)
    paths = write_pipeline_fixtures(folder, "full")
    marker.write_text(json.dumps({k: str(v) for k, v in paths.items()}))
    return paths


def ensure_input(folder: Path, seconds: float) -> tuple[Path, Path]:
    """A sung-like vocal at 44.1 kHz (wav, what users give) and the same at 16 kHz (npy)."""
    import soundfile as sf

    from persona.audio.resample import resample
    from persona.testing.pipeline import parity_input

    wav, npy = folder / f"vocal_{seconds:g}s.wav", folder / f"vocal_{seconds:g}s_16k.npy"
    if not wav.is_file():
        x16 = parity_input(seconds, seed=7)
        sf.write(wav, resample(x16, 16000, 44100), 44100, subtype="FLOAT")
    if not npy.is_file():
        from persona.audio.io import load_audio

        np.save(npy, load_audio(wav, sr=16000)[0])
    return wav, npy


def child_ours(args: argparse.Namespace) -> None:
    # persona first: its runtime settings (persona.runtime) must precede torch's libgomp
    importlib.import_module("persona")
    import torch

    from persona.rvc.convert import convert_file
    from persona.rvc.options import ConversionOptions
    from persona.settings import Settings

    fx = {k: Path(v) for k, v in json.loads(Path(args.fixtures, "fixtures.json").read_text()).items()}
    settings = Settings(home=Path(args.fixtures) / "home", assets_dir=Path(args.fixtures), device="cpu")
    opts = ConversionOptions(f0_method="rmvpe", index_rate=0.75)
    times, cpu, sys_cpu = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            torch.manual_seed(i)
            t0, c0, s0 = time.perf_counter(), time.process_time(), _sys_seconds()
            convert_file(
                settings, fx["v2_f0"], args.input, Path(tmp) / f"out{i}.wav", opts, index=fx["index_v2"]
            )
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            sys_cpu.append(_sys_seconds() - s0)
            print(f"ours run {i}: {times[-1]:.2f}s wall, {cpu[-1]:.2f}s CPU ({sys_cpu[-1]:.2f}s system)",
                  file=sys.stderr, flush=True)  # fmt: skip
    print(
        json.dumps(
            {
                "runs": times,
                "cpu_runs": cpu,
                "sys_runs": sys_cpu,
                "threads": torch.get_num_threads(),
                "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
            }
        )
    )


def _sys_seconds() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


def run_measured(cmd: list[str] | str, shell: bool = False, env: dict | None = None) -> tuple[dict, float]:
    """Run a command; return (its last-line JSON, its peak RSS in MiB)."""
    proc = subprocess.Popen(cmd, shell=shell, stdout=subprocess.PIPE, text=True, env=env)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {cmd}")
    last = [line for line in out.strip().splitlines() if line.startswith("{")][-1]
    return json.loads(last), usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixtures", default=str(Path(tempfile.gettempdir()) / "persona_bench_convert"))
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--runs", type=int, default=2, help="conversions per process (first is cold)")
    ap.add_argument("--reference-cmd", help="command running the reference on the same input (see above)")
    ap.add_argument("--rounds", type=int, default=1, help="alternate ours/reference this many times")
    ap.add_argument(
        "--baseline-src",
        help="also run our child from this source tree (e.g. an older checkout's src/), interleaved",
    )
    ap.add_argument("--child", choices=["ours"], help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "ours":
        child_ours(args)
        return

    folder = Path(args.fixtures)
    folder.mkdir(parents=True, exist_ok=True)
    fx = ensure_fixtures(folder)
    wav, npy = ensure_input(folder, args.seconds)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, no GPU; "
          f"input {args.seconds:g} s", flush=True)  # fmt: skip
    results: dict[str, list] = {
        k: []
        for k in (
            "ours_cold",
            "ours_warm",
            "ours_cpu",
            "ours_rss",
            "ref",
            "ref_cpu",
            "ref_rss",
            "base_cpu",
            "base_rss",
        )
    }
    for _ in range(args.rounds):
        cmd = [sys.executable, __file__, "--child", "ours", "--fixtures", str(folder), "--input", str(wav),
               "--runs", str(args.runs)]  # fmt: skip
        if args.baseline_src:
            env = {**os.environ, "PYTHONPATH": str(Path(args.baseline_src).resolve())}
            base, rss = run_measured(cmd, env=env)
            results["base_cpu"].extend(base.get("cpu_runs", [])[1:])
            results["base_rss"].append(rss)
            print(f"baseline ({args.baseline_src}): wall {[round(t, 2) for t in base['runs']]} s,"
                  f" CPU {[round(t, 2) for t in base.get('cpu_runs', [])]} s"
                  f" (system {[round(t, 2) for t in base.get('sys_runs', [])]}), peak RSS {rss:.0f} MiB", flush=True)  # fmt: skip
        ours, rss = run_measured(cmd)
        results["ours_cold"].append(ours["runs"][0])
        results["ours_warm"].extend(ours["runs"][1:])
        results["ours_cpu"].extend(ours.get("cpu_runs", [])[1:])
        results["ours_rss"].append(rss)
        print(f"ours: wall {[round(t, 2) for t in ours['runs']]} s, CPU {[round(t, 2) for t in ours.get('cpu_runs', [])]} s"
              f" (system {[round(t, 2) for t in ours.get('sys_runs', [])]}), peak RSS {rss:.0f} MiB", flush=True)  # fmt: skip
        if args.reference_cmd:
            cmd = args.reference_cmd.format(
                fixtures=shlex.quote(str(folder)), input_npy=shlex.quote(str(npy)), model=shlex.quote(str(fx["v2_f0"])),
                index=shlex.quote(str(fx["index_v2"])), hubert=shlex.quote(str(fx["hubert_v2"])), seconds=args.seconds,
            )  # fmt: skip
            ref, rss = run_measured(cmd, shell=True, env=_GIVEN_ENV)
            results["ref"].extend(ref["runs"])
            results["ref_cpu"].extend(ref.get("cpu_runs", []))
            results["ref_rss"].append(rss)
            print(f"reference: wall {[round(t, 2) for t in ref['runs']]} s, CPU {[round(t, 2) for t in ref.get('cpu_runs', [])]} s,"
                  f" peak RSS {rss:.0f} MiB", flush=True)  # fmt: skip

    def rtf(times: list[float]) -> str:
        return f"{min(times) / args.seconds:.3f}" if times else "-"

    print(
        "\n| implementation | RTF cold (wall, incl. loading) | RTF warm (wall) | CPU s per s of audio (warm) | peak RSS MiB |"
    )
    print("|---|---|---|---|---|")
    print(f"| persona | {rtf(results['ours_cold'])} | {rtf(results['ours_warm'])} | {rtf(results['ours_cpu'])} |"
          f" {max(results['ours_rss']):.0f} |")  # fmt: skip
    if results["base_cpu"]:
        print(
            f"| baseline {args.baseline_src} | - | - | {rtf(results['base_cpu'])} | {max(results['base_rss']):.0f} |"
        )
    if results["ref"]:
        print(
            f"| reference RVC | - | {rtf(results['ref'])} | {rtf(results['ref_cpu'])} | {max(results['ref_rss']):.0f} |"
        )


if __name__ == "__main__":
    main()
