"""Record a real training's progress trace for the training clock's test (issue 25 item 3).

    python benchmarks/record_training_trace.py OUT.json [--epochs 10] [--save-every 3] [--work DIR]

Trains a tiny model (persona.testing.training assets, three 9 s synthetic recordings, pm pitch,
batch 2, one torch thread) on the CPU with previews on, and writes every progress event with its
time since the start: ``{"request": {...}, "machine": {...}, "events": [{"t", "stage", "fraction",
"code", "params", "epoch", "epochs", "step", "steps", "epoch_done", "saved_epoch"}, ...]}``, the last
event ``{"stage": "done"}`` when ``train_model`` returned. tests/test_training_clock.py replays
tests/data/training_trace.json through ``persona.training.clock``. The model file check that
normally runs in a limited child runs in-process here, so a loaded machine's 120 s child limit
cannot cut the recording short (it is the same check, and a second or two of the run).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

KEEP = ("epoch", "epochs", "step", "steps", "epoch_done", "saved_epoch")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--save-every", type=int, default=3)
    ap.add_argument("--work", default=None)
    args = ap.parse_args()

    import torch

    import persona.library.isolated as isolated
    from persona.messages import code_of
    from persona.settings import Settings
    from persona.testing.training import write_recordings, write_training_assets
    from persona.training import TrainRequest, train_model

    isolated.run_isolated = lambda func, *a, **k: (func(*a), None)
    torch.set_num_threads(1)
    root = Path(args.work or tempfile.mkdtemp(prefix="persona-trace-"))
    write_training_assets(root / "assets", "40k", "tiny")
    files = write_recordings(root / "rec", count=3, seconds=9.0, f0=220.0)
    settings = Settings(home=root / "home", assets_dir=root / "assets", device="cpu")
    request = TrainRequest(
        name="trace",
        files=files,
        epochs=args.epochs,
        batch_size=2,
        f0_method="pm",
        save_every=args.save_every,
        model_size="tiny",
    )
    events: list[dict] = []
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
                **{k: m[k] for k in KEEP if k in m},
            }
        )

    cpu0 = time.process_time()
    train_model(settings, request, progress=progress)
    events.append({"t": round(time.monotonic() - t0, 3), "stage": "done", "fraction": 1.0})
    trace = {
        "request": {
            "epochs": request.epochs,
            "save_every": request.save_every,
            "batch_size": 2,
            "recordings": 3,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "load_1min": round(os.getloadavg()[0], 2),
            "cpu_s": round(time.process_time() - cpu0, 1),
            "wall_s": events[-1]["t"],
        },
        "events": events,
    }
    Path(args.out).write_text(json.dumps(trace, ensure_ascii=False, indent=0), encoding="utf-8")
    print(
        f"{len(events)} events, {events[-1]['t']:.1f} s wall, {trace['machine']['cpu_s']} CPU-s -> {args.out}"
    )


if __name__ == "__main__":
    main()
