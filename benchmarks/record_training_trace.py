"""Record a real training's progress trace for the training clock's test (issue 25 item 3).

    python benchmarks/record_training_trace.py OUT.json [--epochs 10] [--save-every 3]
        [--no-previews] [--recordings 3] [--seconds 9] [--batch-size 2] [--device cpu] [--work DIR]

Trains a tiny model (persona.testing.training assets, synthetic recordings, pm pitch, one torch
thread) through ``train_into_library`` as the worker does, and writes every progress event with
its time since the start: ``{"request": {...}, "machine": {...}, "events": [{"t", "stage",
"fraction", "code", "params", "epoch", "epochs", "step", "steps", "epoch_done", "saved_epoch",
"eta_s", "eta_low_s", "eta_high_s", ...clock facts}, ...]}``, the last event ``{"stage": "done"}``
when the model is in the library. ``eta_*`` is what the page was told at that moment.
tests/test_training_clock.py replays tests/data/training_traces/*.json through
``persona.training.clock``. The model and index checks that normally run in limited children
run in-process here, so a loaded machine's 120 s child limit cannot cut the recording short
(the same checks, without the two interpreter starts).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import tempfile
import time
from pathlib import Path

KEEP = ("epoch", "epochs", "step", "steps", "epoch_done", "saved_epoch", "eta_s", "eta_low_s", "eta_high_s")


def _cpu_name() -> str:
    info = Path("/proc/cpuinfo")
    names = re.findall(r"^model name\s*:\s*(.+)$", info.read_text(), re.M) if info.exists() else []
    return names[0].strip() if names else platform.machine()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--save-every", type=int, default=3)
    ap.add_argument("--no-previews", action="store_true")
    ap.add_argument("--recordings", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=9.0)
    ap.add_argument("--batch-size", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--work", default=None)
    args = ap.parse_args()

    import torch

    import persona.library.validate as validate
    from persona.library.trained import train_into_library
    from persona.messages import code_of
    from persona.settings import Settings
    from persona.testing.training import write_recordings, write_training_assets
    from persona.training import TrainRequest
    from persona.training.clock import FACTS

    validate.run_isolated = lambda func, *a, **k: (func(*a), None)  # in-process (see above)
    torch.set_num_threads(1)
    root = Path(args.work or tempfile.mkdtemp(prefix="persona-trace-"))
    write_training_assets(root / "assets", "40k", "tiny")
    files = write_recordings(root / "rec", count=args.recordings, seconds=args.seconds, f0=220.0)
    settings = Settings(home=root / "home", assets_dir=root / "assets", device=args.device)
    request = TrainRequest(
        name="trace",
        files=files,
        epochs=args.epochs,
        batch_size=args.batch_size,
        f0_method="pm",
        save_every=args.save_every,
        model_size="tiny",
        previews=not args.no_previews,
    )
    events: list[dict] = []
    load0 = os.getloadavg()[0]
    t0 = time.monotonic()

    def progress(stage, fraction, message="", **m):
        code, params = code_of(message)
        events.append(
            {
                "t": round(time.monotonic() - t0, 3),
                "stage": stage,
                "fraction": round(float(fraction), 5),
                "code": code,
                "params": params,
                **{k: m[k] for k in (*KEEP, *FACTS) if k in m},
            }
        )

    cpu0 = time.process_time()
    train_into_library(settings, request, progress=progress)
    events.append({"t": round(time.monotonic() - t0, 3), "stage": "done", "fraction": 1.0})
    trace = {
        "request": {
            "epochs": request.epochs,
            "save_every": request.save_every,
            "batch_size": request.batch_size,
            "recordings": args.recordings,
            "seconds": args.seconds,
            "previews": request.previews,
            "device": args.device,
        },
        "machine": {
            "cpu": _cpu_name(),
            "cpus": os.cpu_count(),
            "load_1min_start": round(load0, 2),
            "load_1min": round(os.getloadavg()[0], 2),
            "cpu_s": round(time.process_time() - cpu0, 1),
            "wall_s": events[-1]["t"],
        },
        "events": events,
    }
    Path(args.out).write_text(json.dumps(trace, ensure_ascii=False, indent=0), encoding="utf-8")
    print(
        f"{len(events)} events, {events[-1]['t']:.1f} s wall, {trace['machine']['cpu_s']} CPU-s, "
        f"load {load0:.1f} -> {trace['machine']['load_1min']} -> {args.out}"
    )


if __name__ == "__main__":
    main()
