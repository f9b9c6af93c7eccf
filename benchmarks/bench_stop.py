"""How long a Stop takes, stage by stage (issue 25 item 3: within 2 s in every stage).

The real job path: each job is queued through the API (Flask test client), run by the job runner
(``persona.jobs.runner.run_job``) in a thread of this process, and stopped with
``POST /api/jobs/<id>/cancel`` once it is where the case says; the time is from that request to the
job's row saying it ended (``cancelled``: what the page shows), polled every 10 ms. Full-size
random-weight models: HuBERT base, RMVPE, RVC's pretrained v2 40k G/D (training, batch 4, f0
rmvpe, previews on), htdemucs (separation, the CPU default) and, for covers, the model the
"save" case keeps. Cases, in order (the covers use the model a stopped training saved):

* ``start`` (0.5 s after the job started: this process's first job, still importing the
  engine), ``preprocess``, ``features-load`` (the content encoder loading), ``features`` (inside HuBERT or
  RMVPE), ``step`` (half way through a step of epoch 2, after the first save), ``save`` (while
  the first save's checkpoint is written), ``preview`` (inside the first save's preview);
* ``separate`` (inside htdemucs), ``convert`` and ``mix`` (stems from the cache, output mp3) of a
  cover; a full cover runs between them to fill the stems cache.

``--index``: seconds of the training's FAISS index build at 10 and 20 minutes of voice (not a
torch model: it is not stopped inside). ``--overhead``: seconds of one full-size training step
with and without the hooks (``persona.interrupt``), alternating, and how often the token is read.
``--tiny``: tiny models, a quick check that the script works. Prints one JSON line per case.

    .venv/bin/python benchmarks/bench_stop.py [--folder DIR] [--only CASE ...] [--index] [--overhead]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

TRAIN_CASES = ("start", "preprocess", "features-load", "features", "step", "save", "preview")
COVER_CASES = ("separate", "convert", "mix")
ENDED = ("succeeded", "failed", "cancelled")
KEPT_MODEL = "stop-bench"


def _machine() -> dict:
    cpu = "unknown"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "load": [round(x, 1) for x in os.getloadavg()]}


def _assets(folder: Path, tiny: bool) -> Path:
    """Full-size random weights under the names the asset manager resolves (written once)."""
    from persona.testing.content import write_hubert_folder, write_rmvpe
    from persona.testing.separation import write_model
    from persona.testing.training import write_pretrained

    assets = folder / ("assets-tiny" if tiny else "assets")
    if tiny:
        from persona.settings import Settings
        from persona.testing.home import write_fixture_assets

        write_fixture_assets(Settings(home=folder / "home", assets_dir=assets))
        return assets
    if not (assets / "ready").exists():
        print(f"writing full-size random-weight assets into {assets} ...", file=sys.stderr, flush=True)
        write_hubert_folder(assets / "hubert_base", tiny=False)
        write_rmvpe(assets / "rmvpe.pt", tiny=False)
        write_pretrained(assets / "pretrained_v2", "40k", "full")
        write_model(assets, "htdemucs", "full")
        (assets / "ready").touch()
    return assets


class Bench:
    def __init__(self, folder: Path, tiny: bool = False, voice_s: float = 40.0, song_s: float = 30.0) -> None:
        from persona.jobs import JobStore
        from persona.server import create_app
        from persona.settings import Settings
        from persona.testing.separation import synthetic_song
        from persona.testing.training import write_recordings

        assets = _assets(folder, tiny)
        self.tiny = tiny
        shutil.rmtree(folder / "home", ignore_errors=True)
        self.settings = Settings(home=folder / "home", assets_dir=assets, device="cpu")
        shutil.rmtree(folder / "rec", ignore_errors=True)
        self.recordings = write_recordings(folder / "rec", count=2, seconds=voice_s / 2)
        self.song = folder / "song.wav"
        sf.write(self.song, synthetic_song(song_s)["mix"].T, 44100, subtype="FLOAT")
        app = create_app(self.settings)
        app.testing = True
        self.client = app.test_client()
        self.store = JobStore(self.settings)

    # -- one job ---------------------------------------------------------------------------------
    def _run(self, job_id: str) -> threading.Thread:
        from persona.jobs.handlers import default_handlers
        from persona.jobs.runner import run_job
        from persona.testing.jobs import tiny_handlers

        handlers = tiny_handlers() if self.tiny else default_handlers()
        thread = threading.Thread(target=run_job, args=(self.settings, job_id, handlers), daemon=True)
        thread.start()
        return thread

    def _poll(self, job_id: str, pred, timeout: float = 3600.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.store.get(job_id)
            if job["status"] in ENDED or pred(job):
                return job
            time.sleep(0.01)
        raise TimeoutError(job_id)

    def stop(self, case: str, job_id: str, when, delay: float) -> dict:
        """Run ``job_id``; once ``when(job)`` holds, wait ``delay`` s, ask it to stop, time the end."""
        thread = self._run(job_id)
        began = time.monotonic()
        job = self._poll(job_id, when)
        if job["status"] in ENDED:
            thread.join()
            return {
                "case": case,
                "error": f"ended {job['status']} before the stop point",
                "job": job["error"],
            }
        time.sleep(delay)
        return self.stop_now(case, job_id, thread, began)

    def stop_now(self, case: str, job_id: str, thread: threading.Thread, began: float) -> dict:
        at = self.store.get(job_id)
        load = os.getloadavg()[0]
        t0, cpu0 = time.monotonic(), time.process_time()
        answer = self.client.post(f"/api/jobs/{job_id}/cancel")
        end = self._poll(job_id, lambda j: False)
        stop_s = time.monotonic() - t0
        thread.join()
        metrics = at.get("metrics") or {}
        result = end.get("result") or {}
        return {
            "case": case,
            "stop_s": round(stop_s, 2),
            "stop_cpu_s": round(time.process_time() - cpu0, 2),
            "cancel_http": answer.status_code,
            "status": end["status"],
            "saved": result.get("saved"),
            "stage_at_stop": at["stage"],
            "message_at_stop": metrics.get("message_code"),
            "step_at_stop": metrics.get("global_step"),
            "job_s_before_stop": round(t0 - began, 1),
            "load_at_stop": round(load, 1),
        }

    # -- the jobs --------------------------------------------------------------------------------
    def training(self, name: str) -> str:
        from persona.testing.uploads import upload

        r = self.client.post(
            "/api/trainings",
            data={
                "name": name,
                "epochs": "3",
                "batch_size": "4",
                "save_every": "1",
                "files": [upload(p) for p in self.recordings],
            },
            content_type="multipart/form-data",
        )
        assert r.status_code == 202, r.get_json()
        return r.get_json()["job_id"]

    def cover(self, fmt: str = "wav") -> str:
        from persona.testing.uploads import upload

        r = self.client.post(
            "/api/covers",
            data={"model": KEPT_MODEL, "song": upload(self.song), "format": fmt},
            content_type="multipart/form-data",
        )
        assert r.status_code == 202, r.get_json()
        return r.get_json()["job_id"]


def _code(job: dict) -> str | None:
    return (job.get("metrics") or {}).get("message_code")


def _in_stage(*stages: str):
    return lambda job: job["stage"] in stages


def _after_step(n: int):
    return lambda job: (job.get("metrics") or {}).get("global_step", 0) >= n and job["stage"] == "train"


def _step_in_epoch(epoch: int):
    def reached(job: dict) -> bool:
        m = job.get("metrics") or {}
        return _code(job) == "train_epoch" and m.get("epoch", 0) >= epoch and "global_step" in m

    return reached


def _epoch_done(job: dict) -> bool:
    return _code(job) == "train_epoch_done"


def train_cases(bench: Bench, only: set[str]) -> None:
    plan = {
        "start": (lambda job: job["status"] == "running", 0.5),
        "preprocess": (_in_stage("preprocess"), 0.1),
        "features-load": (_in_stage("features"), 0.2),
        "features": (_in_stage("features"), 5.0),
        "save": (_epoch_done, 0.05),
        "preview": (_epoch_done, 5.0),
    }
    for case in TRAIN_CASES:
        if only and case not in only:
            continue
        name = KEPT_MODEL if case == "save" else f"stop-{case}"
        job_id = bench.training(name)
        if case == "step":  # after the first save: half way through epoch 2's second step
            thread, began = bench._run(job_id), time.monotonic()
            first = bench._poll(job_id, _step_in_epoch(2))
            t1 = time.monotonic()
            bench._poll(job_id, _after_step(first["metrics"]["global_step"] + 1))
            step_s = time.monotonic() - t1
            time.sleep(step_s / 2)
            out = bench.stop_now(case, job_id, thread, began) | {"step_s": round(step_s, 1)}
        else:
            when, delay = plan[case]
            out = bench.stop(case, job_id, when, delay)
        print(json.dumps(out), flush=True)


def cover_cases(bench: Bench, only: set[str]) -> None:
    from persona.library import ModelLibrary

    if not ModelLibrary(bench.settings).exists(KEPT_MODEL):
        print(json.dumps({"case": "covers", "error": f"no {KEPT_MODEL} model: run the 'save' case first"}))
        return
    if not only or "separate" in only:
        print(json.dumps(bench.stop("separate", bench.cover(), _in_stage("separate"), 3.0)), flush=True)
    if only and not only & {"convert", "mix"}:
        return
    warm = bench.cover()  # the stems cache: the next covers start at the conversion
    thread = bench._run(warm)
    t0 = time.monotonic()
    job = bench._poll(warm, lambda j: False)
    thread.join()
    full = {"case": "full-cover", "status": job["status"], "wall_s": round(time.monotonic() - t0, 1)}
    print(json.dumps(full | {"stages": (job.get("result") or {}).get("stages")}), flush=True)
    if not only or "convert" in only:
        print(json.dumps(bench.stop("convert", bench.cover(), _in_stage("convert"), 2.0)), flush=True)
    if not only or "mix" in only:
        print(json.dumps(bench.stop("mix", bench.cover("mp3"), _in_stage("mix", "encode"), 0.2)), flush=True)


def index_cost() -> None:
    """The index build a training runs between its features and its first step."""
    from persona.testing.index import random_features
    from persona.training.index import build_index

    for minutes in (10, 20):
        with tempfile.TemporaryDirectory() as tmp:
            n = minutes * 60 * 50  # content frames at 50 per second
            path = Path(tmp) / "f.npy"
            np.save(path, random_features(n, 768, 0))
            t0, c0 = time.perf_counter(), time.process_time()
            build_index([path], Path(tmp), "bench", seed=0)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            json.dumps(
                {"case": "index", "voice_min": minutes, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}
            )
        )


def overhead(steps: int, size: str = "full") -> None:
    """One full-size step (batch 4, 3.7 s segments) with and without a job's live token (the
    runner's ``AttemptToken`` on a real job store: it reads the store at most every 0.25 s),
    alternating."""
    import torch

    from persona.jobs import JobStore
    from persona.jobs.runner import AttemptToken
    from persona.settings import Settings
    from persona.testing.training import random_batch
    from persona.training import loop
    from persona.training.config import training_config

    class Counting(AttemptToken):
        looks = 0

        @property
        def cancelled(self) -> bool:
            Counting.looks += 1
            return super().cancelled

    home = Path(tempfile.mkdtemp(prefix="bench_stop_"))
    store = JobStore(Settings(home=home, device="cpu"))
    job = store.create("train", {})
    token = Counting(store, job["id"], store.claim(job["id"]))
    cfg = training_config("40k", size)
    torch.manual_seed(0)
    net_g, net_d = loop.build_nets(cfg)
    net_g.train()
    net_d.train()
    optim_g, optim_d = loop.make_optimizers(net_g, net_d, cfg)
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    batch = random_batch(cfg, frames=370, b=4)
    times: dict[str, list[tuple[float, float]]] = {"plain": [], "watched": []}
    for i in range(2 * steps + 2):
        kind = "plain" if i % 2 == 0 else "watched"
        t0, c0 = time.perf_counter(), time.process_time()
        loop.train_step(
            net_g, net_d, optim_g, optim_d, scaler, batch, cfg, torch.device("cpu"),
            token if kind == "watched" else None,
        )  # fmt: skip
        if i >= 2:  # the first of each warms caches
            times[kind].append((time.perf_counter() - t0, time.process_time() - c0))
    looks_per_step = Counting.looks // (steps + 1)
    out = {"case": "overhead", "threads": torch.get_num_threads(), "looks_per_step": looks_per_step}
    for kind, rows in times.items():
        out[kind] = {
            "wall_s": round(statistics.mean(w for w, _ in rows), 2),
            "cpu_s": round(statistics.mean(c for _, c in rows), 2),
            "wall_all": [round(w, 2) for w, _ in rows],
        }
    print(json.dumps(out), flush=True)
    shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", default=str(Path(tempfile.gettempdir()) / "persona_bench_stop"))
    ap.add_argument("--only", nargs="*", default=[], choices=[*TRAIN_CASES, *COVER_CASES])
    ap.add_argument("--index", action="store_true", help="only the index build's cost")
    ap.add_argument("--overhead", action="store_true", help="only the hooks' cost per training step")
    ap.add_argument("--steps", type=int, default=3, help="--overhead: measured steps of each kind")
    ap.add_argument("--tiny", action="store_true", help="tiny models: a quick check of this script")
    ap.add_argument("--voice-seconds", type=float, default=40.0, help="the trainings' recordings, two takes")
    ap.add_argument("--song-seconds", type=float, default=30.0, help="the covers' song")
    args = ap.parse_args()
    print(json.dumps({"machine": _machine()}), flush=True)
    if args.overhead:
        overhead(args.steps, "tiny" if args.tiny else "full")
    elif args.index:
        index_cost()
    else:
        only = set(args.only)
        bench = Bench(Path(args.folder), args.tiny, args.voice_seconds, args.song_seconds)
        train_cases(bench, only)
        if not only or only & set(COVER_CASES):
            cover_cases(bench, only)
    print(json.dumps({"machine_after": _machine()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
