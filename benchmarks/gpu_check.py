"""One-command GPU check: convert (fp16), a BS-RoFormer cover, one AMP training epoch, parity on CUDA.

On a CUDA machine, from a checkout of this repository:

    python benchmarks/gpu_check.py [--out gpu_check.json] [--install]

``--install`` first installs what is missing into the running interpreter: a CUDA build of
torch 2.13.0 (``--torch-index``, default the cu128 wheel index) when torch is absent or has no
CUDA, and the project itself (``pip install -e .``). Every model is a random-weight file at full
size in the real format (same cost as trained weights; see ``persona.testing``), so nothing is
downloaded but packages. Steps, each timed (wall and process CPU seconds) and marked pass/fail:

1. ``convert``: ``convert_file`` on a 30 s sung-like vocal, v2 40k + RMVPE + HuBERT + index, on
   ``cuda`` (the engine runs the synthesizer in fp16 there); cold (loading) and warm runs, RTF.
2. ``cover``: ``make_cover`` of a 30 s synthetic stereo song with full-size BS-RoFormer and the
   real conversion, made piece by piece as the cover job makes it; stage times and the time to
   the first playable sound and to the first 20 s (``metrics.ready_s``).
3. ``train``: ``train_model`` for one whole epoch (AMP: fp16 autocast + GradScaler on CUDA) on
   60 s of voice, full-size v2 40k G/D, batch 4; seconds per epoch, peak CUDA memory.
4. ``parity``: the stored reference cases (``tests/data/reference/pipeline_*.npz``, made by RVC
   on the CPU) converted on CUDA in fp32 and in fp16; passes when ours is no further from the
   reference than the reference is from itself across noise seeds (CUDA draws a different noise
   stream, which is what a different seed is).

Writes one JSON (``--out``) with every timing, pass/fail per step, the device and versions, and
exits 0 only when every step passed. ``--budget`` (default 480 s) skips the steps that would no
longer fit. ``--dry-run`` runs the same steps on the CPU with tiny models (a check of the script
itself; the test suite runs it).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TORCH_INDEX = "https://download.pytorch.org/whl/cu128"


def install(torch_index: str) -> None:
    """Install a CUDA torch and the project into this interpreter when they are missing."""
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    need_torch = importlib.util.find_spec("torch") is None
    if not need_torch:
        out = subprocess.run(
            [sys.executable, "-c", "import torch; print(torch.version.cuda or '')"],
            capture_output=True,
            text=True,
        )
        need_torch = not out.stdout.strip()
    if need_torch:
        subprocess.run([*pip, "torch==2.13.0", "--index-url", torch_index], check=True)
    if importlib.util.find_spec("persona") is None:
        subprocess.run([*pip, "-e", str(ROOT)], check=True)


class Clock:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def peek(self) -> float:
        return time.perf_counter() - self.wall

    def lap(self) -> dict[str, float]:
        return {
            "wall_s": round(time.perf_counter() - self.wall, 2),
            "cpu_s": round(time.process_time() - self.cpu, 2),
        }


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def step_convert(work: Path, device: str, size: str) -> dict:
    import numpy as np
    import soundfile as sf

    from persona.audio.io import load_audio
    from persona.rvc.convert import clear_cache, convert_file
    from persona.rvc.options import ConversionOptions
    from persona.settings import Settings
    from persona.testing.pipeline import parity_input, write_pipeline_fixtures

    fx = write_pipeline_fixtures(work / "fixtures", size)
    if not (work / "fixtures" / "hubert_base").exists():  # tiny sets name their HuBERT per version
        shutil.copytree(fx["hubert_v2"], work / "fixtures" / "hubert_base")
    seconds = 30.0 if size == "full" else 4.0
    vocal = work / "vocal.wav"
    sf.write(vocal, parity_input(seconds, seed=7), 16000, subtype="FLOAT")
    settings = Settings(home=work / "home", assets_dir=work / "fixtures", device=device)
    opts = ConversionOptions(f0_method="rmvpe", index_rate=0.75)
    clear_cache()
    runs = []
    for i in range(2):
        clock = Clock()
        out = convert_file(settings, fx["v2_f0"], vocal, work / f"out{i}.wav", opts, index=fx["index_v2"])
        _sync(device)
        runs.append(clock.lap())
    audio, _ = load_audio(out)
    ok = bool(np.isfinite(audio).all() and np.abs(audio).max() > 1e-3)
    return {
        "pass": ok,
        "seconds": seconds,
        "cold": runs[0],
        "warm": runs[1],
        "rtf_warm": round(runs[1]["wall_s"] / seconds, 3),
        "fixtures": {k: str(v) for k, v in fx.items()},
    }


def step_cover(work: Path, device: str, size: str, fixtures: dict) -> dict:
    import soundfile as sf

    from persona.cover import CoverRequest
    from persona.cover.pipeline import make_cover
    from persona.rvc.options import ConversionOptions
    from persona.settings import Settings
    from persona.testing.separation import synthetic_song, write_model

    assets = work / "fixtures"
    write_model(assets, "bs_roformer", size)
    seconds = 30.0 if size == "full" else 4.0
    song = work / "song.wav"
    sf.write(song, synthetic_song(seconds, 44100)["mix"].T, 44100, subtype="PCM_16")
    settings = Settings(home=work / "home", assets_dir=assets, device=device)
    req = CoverRequest(
        song=song,
        model=fixtures["v2_f0"],
        index=Path(fixtures["index_v2"]),
        output=work / "cover.wav",
        separation_model="bs_roformer",
        conversion=ConversionOptions(f0_method="rmvpe", index_rate=0.75),
    )
    clock = Clock()
    first: dict[str, float] = {}

    def progress(stage: str, fraction: float, message: str = "", **kw) -> None:
        ready = kw.get("ready_s") or 0.0
        for name, need in (("first_sound_s", 0.0), ("first_20s_s", min(20.0, seconds - 1))):
            if ready > need and name not in first:
                first[name] = round(clock.peek(), 2)

    res = make_cover(settings, req, progress, preview=work / "preview.pcm")
    _sync(device)
    total = clock.lap()
    ok = res.path.is_file() and abs(res.duration_s - seconds) < 0.5
    return {
        "pass": bool(ok),
        "seconds": seconds,
        "total": total,
        "stages_wall_s": res.stages,
        "lufs": res.loudness_lufs,
        "first_sound_s": first.get("first_sound_s"),  # wall seconds after the request
        "first_20s_s": first.get("first_20s_s"),
    }


def step_train(work: Path, device: str, size: str) -> dict:
    import torch

    from persona.library.trained import train_into_library
    from persona.settings import Settings
    from persona.testing.content import write_hubert_folder, write_rmvpe
    from persona.testing.training import write_pretrained, write_recordings, write_v2_hubert
    from persona.training import TrainRequest

    assets = work / "train_assets"
    if size == "full":
        write_hubert_folder(assets / "hubert_base", tiny=False)
        write_rmvpe(assets / "rmvpe.pt", tiny=False)
    else:
        write_v2_hubert(assets / "hubert_base")
    write_pretrained(assets / "pretrained_v2", "40k", size)
    seconds = 60.0 if size == "full" else 12.0
    files = write_recordings(work / "rec", count=2, seconds=seconds / 2)
    settings = Settings(home=work / "train_home", assets_dir=assets, device=device)
    marks: dict[str, float] = {}

    def progress(stage: str, fraction: float, message: str = "", **kw) -> None:
        marks.setdefault(stage, time.perf_counter())

    clock = Clock()
    result = train_into_library(
        settings,
        TrainRequest(
            name="gpucheck",
            files=files,
            epochs=1,
            batch_size=4,
            sample_rate="40k",
            f0_method="rmvpe" if size == "full" else "pm",
            model_size=size,
            quality_report=False,
        ),
        progress=progress,
    )
    _sync(device)
    total = clock.lap()
    out = {
        "pass": bool(not result.stopped),
        "audio_s": seconds,
        "total": total,
        "amp": device.startswith("cuda"),
    }
    if "train" in marks and "export" in marks:
        out["epoch_wall_s"] = round(marks["export"] - marks["train"], 2)
    if device.startswith("cuda"):
        out["peak_cuda_mib"] = round(torch.cuda.max_memory_allocated() / 2**20)
    return out


def _pipeline(fx: dict, model: str, index: str | None, device: str, half: bool):
    """The engine's Pipeline on the parity fixtures, with the reference's (CPU) window sizes."""
    import functools

    import torch

    from persona.rvc.content import ContentEncoder
    from persona.rvc.f0 import compute_f0
    from persona.rvc.index import load_index
    from persona.rvc.pipeline import Pipeline, WindowConfig
    from persona.rvc.voice_model import load_voice_model

    voice = load_voice_model(fx[model], device=device, dtype=torch.float16 if half else None)
    content = ContentEncoder.from_path(fx[f"hubert_{voice.version}"], device)
    f0_fn = functools.partial(compute_f0, rmvpe_path=fx["rmvpe"], device=device)
    idx = load_index(fx[index], voice.version) if index else None
    return Pipeline(voice, content, f0_fn, index=idx, device=device, is_half=half, windows=WindowConfig())


def step_parity(work: Path, device: str) -> dict:
    import numpy as np
    import torch

    from persona.rvc.options import ConversionOptions
    from persona.testing.pipeline import parity_input, write_pipeline_fixtures

    fx = write_pipeline_fixtures(work / "parity", "tiny")
    ref_dir = ROOT / "tests" / "data" / "reference"
    cases = {}
    for name in ("v2_pm", "v1_nof0_resample"):
        data = np.load(ref_dir / f"pipeline_{name}.npz")
        case = json.loads(str(data["case"]))
        model = "v2_f0" if case["model"].startswith("v2") else "v1_nof0"
        index = ("index_v2" if model == "v2_f0" else "index_v1") if case.get("index") else None
        ref = data["out_int16"].astype(np.float64) / 32768
        bar = float(np.max(data["seed_diffs"]))
        opts = ConversionOptions(
            pitch=case["pitch"],
            f0_method=case["f0_method"],
            index_rate=case["index_rate"],
            rms_mix_rate=case["rms_mix_rate"],
            protect=case["protect"],
            resample_sr=case.get("resample_sr", 0),
        )
        x = parity_input(case["seconds"], seed=case["seed"])
        for precision in ("fp32", "fp16") if device.startswith("cuda") else ("fp32",):
            pipe = _pipeline(fx, model, index, device, precision == "fp16")
            torch.manual_seed(0)
            out, _ = pipe.convert(x, opts)
            n = min(out.shape[0], ref.shape[0])
            ours = (out[:n].astype(np.float64) * 32768).astype(np.int16).astype(np.float64) / 32768
            diff = float(np.sqrt(np.mean(np.square(ours - ref[:n]))))
            cases[f"{name}_{precision}"] = {
                "rms_vs_reference": diff,
                "reference_vs_itself_max": bar,
                "same_length": out.shape[0] == ref.shape[0],
                "pass": diff <= bar and out.shape[0] == ref.shape[0],
            }
    return {"pass": all(c["pass"] for c in cases.values()), "cases": cases}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="gpu_check.json")
    ap.add_argument("--install", action="store_true", help="install CUDA torch and the project if missing")
    ap.add_argument("--torch-index", default=DEFAULT_TORCH_INDEX)
    ap.add_argument("--budget", type=float, default=480.0, help="seconds; later steps are skipped past it")
    ap.add_argument("--dry-run", action="store_true", help="CPU, tiny models: check the script itself")
    ap.add_argument("--steps", default="convert,cover,train,parity")
    args = ap.parse_args()
    started = time.perf_counter()
    if args.install:
        install(args.torch_index)
    import torch

    device, size = ("cpu", "tiny") if args.dry_run else ("cuda", "full")
    report: dict = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "dry_run": args.dry_run,
        "device": device,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "steps": {},
    }
    if device == "cuda" and not torch.cuda.is_available():
        report["error"] = "no CUDA device visible to torch (try --install, or --dry-run on a CPU)"
        Path(args.out).write_text(json.dumps(report, indent=1))
        print(report["error"], file=sys.stderr)
        return 2
    wanted = [s.strip() for s in args.steps.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="persona_gpu_check_") as tmp:
        work = Path(tmp)
        fixtures: dict = {}
        for name in wanted:
            if time.perf_counter() - started > args.budget:
                report["steps"][name] = {"pass": False, "skipped": "over the time budget"}
                continue
            print(f"gpu_check: {name} ...", file=sys.stderr, flush=True)
            clock = Clock()
            try:
                if name == "convert":
                    result = step_convert(work, device, size)
                    fixtures = result.pop("fixtures")
                elif name == "cover":
                    if not fixtures:
                        fixtures = {
                            k: str(v) for k, v in step_convert(work, device, size)["fixtures"].items()
                        }
                    result = step_cover(work, device, size, fixtures)
                elif name == "train":
                    result = step_train(work, device, size)
                elif name == "parity":
                    result = step_parity(work, device)
                else:
                    result = {"pass": False, "error": f"unknown step {name!r}"}
            except Exception as exc:  # one failing step must not hide the others' figures
                result = {
                    "pass": False,
                    "error": f"{type(exc).__name__}: {exc}",
                    "trace": traceback.format_exc(),
                }
            result["step"] = clock.lap()
            report["steps"][name] = result
            print(
                f"gpu_check: {name}: {'pass' if result['pass'] else 'FAIL'} {result['step']}", file=sys.stderr
            )
    report["total_s"] = round(time.perf_counter() - started, 1)
    report["pass"] = all(s.get("pass") for s in report["steps"].values())
    Path(args.out).write_text(json.dumps(report, indent=1, default=str))
    print(json.dumps({"pass": report["pass"], "total_s": report["total_s"], "out": args.out}))
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
