"""Two torch streams with 1 thread each against one stream with 2 threads (issue 22 item 2).

Does a 2-core CPU do more work when separation and conversion run side by side, each with one
intra-op thread, than when they take turns with two threads each? Measured on full-size
random-weight models (same cost as trained ones): HTDemucs on ``--steps`` model chunk steps of a
synthetic song, and the real RVC conversion (HuBERT base, RMVPE, v2 40k f0 model, 2000-vector
index; ``bench_convert.py``'s fixtures) of a ``--piece-s`` vocal.

1. each alone with 2 threads, then with 1 thread: wall and CPU seconds (on a loaded machine a
   1-thread run's CPU seconds are close to its wall time on an idle one; a 2-thread run's CPU
   seconds also count OpenMP threads spinning while they wait);
2. both at once, each in its own Python thread with ``torch.set_num_threads(1)``: the separator
   repeats its chunks for as long as the conversion runs. Per-thread CPU times (``/proc``) show
   that each stream kept to one thread; the process's peak RSS in each phase is sampled.

    .venv/bin/python benchmarks/bench_overlap.py [--steps 2] [--piece-s 22] [--phases 2,1,together]

On a loaded machine a 2-thread run's CPU seconds are mostly its threads spinning for each other;
``OMP_WAIT_POLICY=passive`` (set before the process starts) makes a waiting thread sleep, so each
thread's CPU seconds show the work it did: the helper's is its share of the parallel parts, the
main thread's that share plus the serial parts (what a second thread cannot speed up).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def task_times() -> dict[int, tuple[float, float]]:
    """(user, system) CPU seconds of every thread of this process."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(tid)] = (int(fields[11]) / TICK, int(fields[12]) / TICK)
    return out


def busy_threads(before: dict, after: dict, min_s: float = 0.5) -> dict[int, list[float]]:
    """Threads that spent at least ``min_s`` CPU seconds between two ``task_times``."""
    out = {}
    for tid, (u, s) in after.items():
        u0, s0 = before.get(tid, (0.0, 0.0))
        if u - u0 + s - s0 >= min_s:
            out[tid] = [round(u - u0, 1), round(s - s0, 1)]
    return out


class RssPeak:
    def __init__(self) -> None:
        self.peak = 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.peak = max(self.peak, int(line.split()[1]) // 1024)
            time.sleep(0.05)

    def take(self) -> int:
        peak, self.peak = self.peak, 0
        return peak


def measured(fn) -> dict:
    import torch

    t0, c0, tt0, r0 = time.perf_counter(), time.process_time(), time.thread_time(), task_times()
    fn()
    return {
        "threads": torch.get_num_threads(),
        "wall_s": round(time.perf_counter() - t0, 2),
        "cpu_s": round(time.process_time() - c0, 2),
        "this_thread_cpu_s": round(time.thread_time() - tt0, 2),
        "busy_threads": busy_threads(r0, task_times()),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2, help="HTDemucs chunk steps per separator call")
    ap.add_argument("--piece-s", type=float, default=22.0)
    ap.add_argument("--fixtures", default=str(Path(tempfile.gettempdir()) / "persona_bench_convert"))
    ap.add_argument(
        "--phases",
        default="2,1,together",
        help="which of: 2 (alone, 2 threads), 1 (alone, 1 thread), together (comma-separated)",
    )
    args = ap.parse_args()

    import soundfile as sf
    import torch
    from bench_convert import ensure_fixtures, ensure_input

    from persona.runtime import tune_allocator
    from persona.rvc.convert import convert_audio
    from persona.rvc.options import ConversionOptions
    from persona.separation import engine
    from persona.separation.models import get_model
    from persona.settings import Settings
    from persona.testing.separation import synthetic_song, write_model

    tune_allocator()
    fixtures = Path(args.fixtures)
    fx = ensure_fixtures(fixtures)
    settings = Settings(home=fixtures / "home", assets_dir=fixtures, device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        weights, config = write_model(Path(tmp), "htdemucs", "full")
        runner = engine.load_separator(get_model("htdemucs"), weights, config)
    seg = engine.segment_frames(runner, 44100, args.steps * runner.step_s)
    mix = synthetic_song(seg / 44100 + 1, 44100)["mix"][:, :seg]
    wav, _ = ensure_input(fixtures, args.piece_s)
    vocal, vsr = sf.read(str(wav), dtype="float32")
    opts = ConversionOptions(f0_method="rmvpe", index_rate=0.75)

    def separate() -> None:
        runner.run(mix)

    def convert() -> None:
        convert_audio(settings, fx["v2_f0"], vocal, vsr, opts, index=fx["index_v2"])

    rss = RssPeak()
    out: dict = {"steps": args.steps, "segment_s": round(seg / 44100, 2), "piece_s": args.piece_s}
    out["load_avg_start"] = [round(x, 1) for x in os.getloadavg()]
    torch.set_num_threads(2)
    out["warm"] = {"separate": measured(separate), "convert": measured(convert)}
    rss.take()

    def say(name: str) -> None:
        print(f"# {name}: {json.dumps(out[name])} load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)

    say("warm")
    phases = args.phases.split(",")
    for threads in [int(p) for p in phases if p != "together"]:
        torch.set_num_threads(threads)
        name = f"alone_{threads}t"
        out[name] = {"separate": measured(separate), "convert": measured(convert), "peak_rss_mb": rss.take()}
        say(name)

    if "together" not in phases:
        print(json.dumps(out, indent=1))
        return
    # both at once: one Python thread each, one intra-op thread each
    torch.set_num_threads(1)
    done = threading.Event()
    sep: dict = {"chunks": 0}

    def separator() -> None:
        torch.set_num_threads(1)
        t0, c0 = time.perf_counter(), time.thread_time()
        while not done.is_set():
            separate()
            sep["chunks"] += 1
        sep.update(wall_s=round(time.perf_counter() - t0, 2), thread_cpu_s=round(time.thread_time() - c0, 2))
        sep["omp_threads"] = torch.get_num_threads()

    r0, c0, t0 = task_times(), time.process_time(), time.perf_counter()
    worker = threading.Thread(target=separator)
    worker.start()
    conv = measured(convert)
    done.set()
    worker.join()
    out["together_1t_each"] = {
        "convert": conv,
        "separate": sep,
        "wall_s": round(time.perf_counter() - t0, 2),
        "cpu_s": round(time.process_time() - c0, 2),
        "busy_threads": busy_threads(r0, task_times()),
        "peak_rss_mb": rss.take(),
    }
    say("together_1t_each")
    out["load_avg_end"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
