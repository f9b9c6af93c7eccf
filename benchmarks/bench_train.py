"""Training benchmark: 5 minutes of (synthetic) voice at full model size, RVC v2 40k, on this machine.

Random-weight assets in the real sizes (HuBERT base, full pretrained G/D), so the cost is real
even though the voice is not. Runs the whole ``train_model`` path for one epoch but stops after
``--steps`` training steps (the Stop path), and extrapolates seconds per epoch from the mean step
time (the first step, which warms caches, is left out). Prints one JSON line.

    .venv/bin/python benchmarks/bench_train.py [--seconds 300] [--steps 4] [--batch-size 4]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--rate", default="40k")
    ap.add_argument("--f0-method", default="pm")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--model-size", default="full")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from persona.errors import Cancelled
    from persona.library.trained import train_into_library
    from persona.progress import CancelToken
    from persona.settings import Settings
    from persona.testing.content import write_hubert_folder
    from persona.testing.training import write_pretrained, write_recordings
    from persona.training import TrainRequest
    from persona.training.trainer import experiment_dir

    root = Path(tempfile.mkdtemp(prefix="bench_train_"))
    assets = root / "assets"
    write_hubert_folder(assets / "hubert_base", tiny=False)
    write_pretrained(assets / "pretrained_v2", args.rate, args.model_size)
    per_file = args.seconds / 5
    files = write_recordings(root / "rec", count=5, seconds=per_file)
    settings = Settings(home=root / "home", assets_dir=assets, device=args.device)

    token = CancelToken()
    marks: dict[str, tuple[float, float]] = {}  # stage -> (wall, process CPU) when it began
    step_times: list[tuple[float, float]] = []
    info: dict[str, object] = {}
    last = [(time.perf_counter(), time.process_time())]

    rss_at: dict[str, int] = {}  # peak RSS (MiB) reached before each stage began

    def progress(stage: str, fraction: float, message: str = "", **m) -> None:
        now = (time.perf_counter(), time.process_time())
        if stage not in marks:
            rss_at[stage] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        marks.setdefault(stage, now)
        if stage == "train" and "global_step" in m:
            step_times.append((now[0] - last[0][0], now[1] - last[0][1]))
            info["steps_per_epoch"] = m["steps"]
            if len(step_times) >= args.steps:
                token.cancel()
        last[0] = now

    cpu0 = time.process_time()
    t0 = time.perf_counter()
    stopped_unsaved = False
    try:
        result = train_into_library(
            settings,
            TrainRequest(
                name="bench",
                files=files,
                epochs=1,
                batch_size=args.batch_size,
                sample_rate=args.rate,
                f0_method=args.f0_method,
                model_size=args.model_size,
                quality_report=True,
            ),
            progress=progress,
            cancel=token,
        )
    except Cancelled:  # stopped inside the first epoch: nothing saved, the step times stand
        result, stopped_unsaved = None, True
    total = time.perf_counter() - t0
    end = (time.perf_counter(), time.process_time())
    steps = step_times[1:] or step_times
    step_s = statistics.mean(w for w, _ in steps)
    step_cpu = statistics.mean(c for _, c in steps)
    per_epoch = int(info.get("steps_per_epoch") or 0)

    def span(a: str, b: str | None) -> dict[str, float] | None:
        if a not in marks:
            return None
        stop = marks[b] if b else end
        return {"wall_s": round(stop[0] - marks[a][0], 1), "cpu_s": round(stop[1] - marks[a][1], 1)}

    out = {
        "device": args.device,
        "threads": torch.get_num_threads(),
        "audio_s": args.seconds,
        "rate": args.rate,
        "batch_size": args.batch_size,
        "preprocess": span("preprocess", "features"),
        "features": span("features", "train"),
        "first_step": {"wall_s": round(step_times[0][0], 2), "cpu_s": round(step_times[0][1], 2)},
        "step": {"wall_s": round(step_s, 2), "cpu_s": round(step_cpu, 2)},
        "steps_per_epoch": per_epoch,
        "epoch_estimate": {"wall_s": round(step_s * per_epoch, 1), "cpu_s": round(step_cpu * per_epoch, 1)},
        "export_index_quality": span("export", None),
        "total_s": round(total, 1),
        "cpu_s": round(time.process_time() - cpu0, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_rss_before_stage_mib": rss_at,
        "step_times": [[round(w, 2), round(c, 2)] for w, c in step_times],
        "stopped": True if result is None else result.stopped,
        "stopped_before_first_save": stopped_unsaved,
        "quality": None if result is None else result.quality,
        "experiment_dir": str(experiment_dir(settings, "bench")),
    }
    if torch.cuda.is_available() and args.device.startswith("cuda"):
        out["peak_cuda_mib"] = round(torch.cuda.max_memory_allocated() / 2**20)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
