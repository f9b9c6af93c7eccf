"""``make bench``: run the benchmarks one after another, each in its own process, and summarise.

By default each runs in a quick setting (minutes in all on a 2-core CPU) to show that every
benchmark works and what this machine does; ``--full`` uses each script's own defaults (the
settings ``benchmarks/README.md`` records). Prints each benchmark's own output, then one line per
benchmark: exit code, wall seconds and the CPU seconds its process tree used, with the load
average before and after (figures on a shared machine need both).

    .venv/bin/python benchmarks/run_all.py [--full] [--only NAME ...] [--list]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# name: (quick arguments, full arguments)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "audio_assets": ([], []),
    "synth": (["2"], []),
    "f0_content": (["--seconds", "5", "--methods", "content_v2,rmvpe,pm,harvest"], []),
    "convert": (["--seconds", "10", "--runs", "2"], []),
    "train": (["--seconds", "30", "--steps", "2", "--model-size", "tiny"], []),
    "cover": (["--model", "htdemucs", "--seconds", "20", "--once"], []),
    "server": (["--n", "50", "--fixture-jobs"], []),
    "signin": (["--n", "10"], ["--n", "50"]),
    "stop": (["--tiny"], []),
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(name: str, args: list[str]) -> tuple[int, float, float]:
    """Run ``bench_<name>.py`` with ``args``; (exit code, wall s, CPU s of its process tree)."""
    cmd = [sys.executable, str(HERE / f"bench_{name}.py"), *args]
    print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
    cpu0, t0 = _children_cpu(), time.monotonic()
    code = subprocess.call(cmd)
    return code, time.monotonic() - t0, _children_cpu() - cpu0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="each benchmark's own (README) settings")
    ap.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and their arguments")
    args = ap.parse_args(argv)
    chosen = args.only or list(BENCHMARKS)
    if args.list:
        for name in chosen:
            quick, full = BENCHMARKS[name]
            print(f"{name}: bench_{name}.py {' '.join(full if args.full else quick)}")
        return 0
    load_before = os.getloadavg()
    results = {name: run(name, BENCHMARKS[name][1 if args.full else 0]) for name in chosen}
    load_after = os.getloadavg()
    print(f"\n=== summary ({'full' if args.full else 'quick'} settings, {os.cpu_count()} CPUs)")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    for name, (code, wall, cpu) in results.items():
        print(
            f"{name:14s} {'ok' if code == 0 else f'FAILED ({code})':12s} wall {wall:7.1f} s  cpu {cpu:7.1f} s"
        )
    return 0 if all(code == 0 for code, _, _ in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
