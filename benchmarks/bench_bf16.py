"""bf16 per part on this CPU (issue 22 item 2): CPU seconds fp32 vs bf16 and the output difference
against each part's quality bar. Full-size random weights (they cost what trained ones cost).

Variants run alternately in one process (``--rounds`` times each), so a shared machine's load hits
both alike; CPU seconds are ``time.process_time`` (all threads), wall seconds are printed too.
``autocast``: ``torch.autocast("cpu", torch.bfloat16)`` around the part (oneDNN bf16 matmuls and
convolutions, the rest fp32); ``weights``: the module cast to bf16 with bf16 inputs.

Parts (``--parts``, comma-separated):
- ``htdemucs``, ``bs_roformer``: the separator on a synthetic song through ``ModelRunner.run``
  (pymss's own chunking). Bar: the stem's SDR against the fp32 stem (D), and what D means for a
  trained model whose SDR against the true stem is S: at most ``20 log10(1 + 10^((S - D) / 20))``
  dB worse (the bf16 error aligned with the model's error), ``10 log10(1 + 10^((S - D) / 10))``
  when they are uncorrelated. The issue's progressive bar is 0.5 dB; we ask for the worst case
  under 0.1 dB. BS-RoFormer runs on ``--roformer-chunk-s`` chunks (its 8 s chunk costs ~430 CPU-s).
- ``hubert``, ``rmvpe``, ``decoder``: each module alone on ``--seconds`` of a sung-like input
  (relative difference; RMVPE: voicing agreement and cents on frames both call voiced).
- ``convert``: the whole conversion (full-size HuBERT base, RMVPE, v2 40k + index) with one part
  in bf16 at a time; bar: RVC's seed-to-seed spread, the RMS between two fp32 runs with NSF noise
  seeds 0 and 1, against the same-seed RMS between fp32 and bf16 (int16 grid, as the parity tests).
- ``parity``: the parity tests' own cases (tiny fixtures + full-size RMVPE, references in
  tests/data/reference) with each part in bf16: ours-vs-reference RMS against the reference's own
  seed spread, exactly as tests/test_pipeline_parity.py asserts it.

    python benchmarks/bench_bf16.py [--parts htdemucs,hubert,rmvpe,decoder,convert,parity] [--rounds 2]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from persona.precision import cpu_flags, fast_bf16

REF = Path(__file__).resolve().parent.parent / "tests" / "data" / "reference"
PUBLISHED_SDR = {"htdemucs": 8.38, "bs_roformer": 12.98}  # vocal SDR, README's table


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.process_time() - c, time.perf_counter() - w, out


def rms(a: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(np.asarray(a, np.float64)))))


def sdr(ref: np.ndarray, est: np.ndarray) -> float:
    ref, est = np.asarray(ref, np.float64), np.asarray(est, np.float64)
    return float(10 * np.log10(np.sum(ref**2) / max(np.sum((ref - est) ** 2), 1e-30)))


def rel_db(ref: Any, est: Any) -> float:
    """-SDR: the difference's level relative to the reference (dB; lower is closer)."""
    return -sdr(_np(ref), _np(est))


def _np(x: Any) -> np.ndarray:
    return x.detach().float().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def alternate(
    variants: dict[str, Callable[[], Any]], rounds: int, warmup: bool = True
) -> dict[str, dict[str, Any]]:
    """Run each variant ``rounds`` times, interleaved; CPU/wall seconds and the last output.

    ``warmup``: one untimed run of each first (oneDNN makes its fp32 and bf16 primitives then).
    """
    for fn in variants.values() if warmup else ():
        fn()
    out: dict[str, dict[str, Any]] = {k: {"cpu": [], "wall": []} for k in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            cpu, wall, value = timed(fn)
            out[name]["cpu"].append(cpu)
            out[name]["wall"].append(wall)
            out[name]["out"] = value
    return out


def summary(part: str, runs: dict[str, dict[str, Any]], extra: dict[str, dict[str, Any]]) -> None:
    base = statistics.median(runs["fp32"]["cpu"])
    for name, r in runs.items():
        cpu = statistics.median(r["cpu"])
        row = {
            "part": part,
            "variant": name,
            "cpu_s": [round(c, 2) for c in r["cpu"]],
            "wall_s": [round(w, 2) for w in r["wall"]],
            "speedup": round(base / cpu, 3),
            "speedup_min": round(min(runs["fp32"]["cpu"]) / min(r["cpu"]), 3),
            **extra.get(name, {}),
            "load": load(),
        }
        print(json.dumps(row), flush=True)


@contextlib.contextmanager
def autocast_attr(obj: Any, name: str) -> Iterator[None]:
    """``obj.name(...)`` runs under CPU bf16 autocast while the context is open."""
    orig, own = getattr(obj, name), name in vars(obj)

    def wrapped(*a: Any, **k: Any) -> Any:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return orig(*a, **k)

    setattr(obj, name, wrapped)
    try:
        yield
    finally:
        if own:
            setattr(obj, name, orig)
        else:
            delattr(obj, name)


def with_ctx(
    ctx: Callable[[], contextlib.AbstractContextManager], fn: Callable[[], Any]
) -> Callable[[], Any]:
    def run() -> Any:
        with ctx():
            return fn()

    return run


# -- separation ---------------------------------------------------------------------------------


def sdr_change(s: float, d: float) -> tuple[float, float]:
    """(worst, uncorrelated) SDR loss in dB for a model of SDR ``s`` whose stem moves by ``d`` dB SDR."""
    return 20 * np.log10(1 + 10 ** ((s - d) / 20)), 10 * np.log10(1 + 10 ** ((s - d) / 10))


def bench_separator(name: str, args: argparse.Namespace, tmp: Path) -> None:
    import yaml

    from persona.separation import engine
    from persona.separation.models import MODELS
    from persona.testing.separation import synthetic_song, write_model

    model = MODELS[name]
    w, c = write_model(tmp / name, name, "full")
    if model.arch != "htdemucs" and args.roformer_chunk_s:
        cfg = yaml.safe_load(c.read_text())
        cfg["audio"]["chunk_size"] = int(44100 * args.roformer_chunk_s)
        c.write_text(yaml.safe_dump(cfg, sort_keys=False))
    runner = engine.load_separator(model, w, c)
    seconds = args.sep_seconds or runner.step_s  # one model chunk
    song = synthetic_song(seconds, seed=1)
    mix = song["mix"]

    def run(bf16: bool) -> np.ndarray:
        runner.bf16 = bf16
        return runner.run(mix)

    runs = alternate({"fp32": lambda: run(False), "autocast": lambda: run(True)}, args.rounds)
    ref, est = runs["fp32"]["out"], runs["autocast"]["out"]
    d_t, d_r = sdr(ref, est), sdr(mix - ref, mix - est)
    s = PUBLISHED_SDR.get(name, 10.0)
    worst, unc = sdr_change(s, d_t)
    extra = {
        "autocast": {
            "sdr_vs_fp32_target_db": round(d_t, 1),
            "sdr_vs_fp32_residual_db": round(d_r, 1),
            "true_vocals_sdr_fp32_bf16_db": [
                round(sdr(song["vocals"], ref), 3),
                round(sdr(song["vocals"], est), 3),
            ],
            "max_abs_diff": float(np.abs(ref - est).max()),
            f"sdr_loss_at_S{s}_worst_uncorr_db": [round(worst, 4), round(unc, 5)],
        }
    }
    print(f"# {name}: {seconds:.1f} s song, chunk step {runner.step_s:.2f} s", flush=True)
    summary(name, runs, extra)
    runner.close()


# -- HuBERT, RMVPE, decoder alone ---------------------------------------------------------------


def bench_hubert(args: argparse.Namespace, tmp: Path) -> None:
    from persona.rvc.content import ContentEncoder
    from persona.testing.content import voice_like, write_hubert_folder

    enc = ContentEncoder.from_path(write_hubert_folder(tmp / "hubert_base", tiny=False))
    wav = torch.from_numpy(voice_like(args.seconds, seed=0).astype(np.float32))[None]
    low = ContentEncoder.from_path(tmp / "hubert_base")
    low.model.to(torch.bfloat16)

    def weights() -> torch.Tensor:
        x = wav.to(torch.bfloat16)
        with torch.no_grad():
            return low.model(input_values=x, attention_mask=None, return_dict=True).last_hidden_state.float()

    runs = alternate(
        {
            "fp32": lambda: enc.extract(wav, "v2"),
            "autocast": with_ctx(
                lambda: torch.autocast("cpu", dtype=torch.bfloat16), lambda: enc.extract(wav, "v2")
            ),
            "weights": weights,
        },
        args.rounds,
    )
    ref = runs["fp32"]["out"]
    extra = {k: {"diff_rel_db": round(rel_db(ref, runs[k]["out"]), 1)} for k in ("autocast", "weights")}
    summary("hubert", runs, extra)


def bench_rmvpe(args: argparse.Namespace, tmp: Path) -> None:
    from persona.rvc.f0.rmvpe import RMVPE, decode
    from persona.testing.content import voice_like, write_rmvpe

    path = write_rmvpe(tmp / "rmvpe.pt", tiny=False)
    net = RMVPE.from_path(path)
    low = RMVPE.from_path(path)
    low.model.to(torch.bfloat16)
    x = voice_like(args.seconds, seed=0).astype(np.float32)

    def weights() -> np.ndarray:
        with torch.no_grad():
            mel = low.mel(torch.from_numpy(x)[None])
            n = mel.shape[-1]
            mel = torch.nn.functional.pad(mel, (0, 32 * ((n - 1) // 32 + 1) - n))
            return low.model(mel.to(torch.bfloat16))[:, :n].squeeze(0).float().numpy()

    # autocast around the network only: the mel spectrogram stays fp32
    low_net = with_ctx(lambda: autocast_attr(net.model, "forward"), lambda: net.salience(x))
    runs = alternate({"fp32": lambda: net.salience(x), "autocast": low_net, "weights": weights}, args.rounds)
    ref = decode(runs["fp32"]["out"], 0.03)
    extra = {}
    for k in ("autocast", "weights"):
        f0 = decode(runs[k]["out"], 0.03)
        both = (ref > 0) & (f0 > 0)
        cents = 1200 * np.abs(np.log2(f0[both] / ref[both])) if both.any() else np.zeros(1)
        extra[k] = {
            "salience_rel_db": round(rel_db(runs["fp32"]["out"], runs[k]["out"]), 1),
            "voiced_fp32": round(float(np.mean(ref > 0)), 3),
            "voicing_agree": round(float(np.mean((ref > 0) == (f0 > 0))), 4),
            "cents_mean_max": [round(float(cents.mean()), 2), round(float(cents.max()), 2)],
        }
    summary("rmvpe", runs, extra)


def bench_decoder(args: argparse.Namespace, tmp: Path) -> None:
    from persona.rvc.voice_model import load_voice_model
    from persona.testing.pipeline import FULL_40K, write_small_model

    path = write_small_model(tmp / "v2_40k.pth", config=FULL_40K)
    net = load_voice_model(path).net_g
    low = load_voice_model(path, dtype=torch.bfloat16).net_g
    g = torch.Generator().manual_seed(0)
    t = int(args.seconds * 100)
    phone = torch.randn(1, t, 768, generator=g)
    pitchf = 120 + 200 * torch.rand(1, t, generator=g)
    pitch = torch.randint(1, 255, (1, t), generator=g)
    lengths, sid = torch.tensor([t]), torch.tensor([0])

    def infer(n: Any, ph: torch.Tensor, seed: int = 0) -> torch.Tensor:
        torch.manual_seed(seed)
        with torch.inference_mode():
            return n.infer(ph, lengths, pitch, pitchf, sid)[0].float()

    runs = alternate(
        {
            "fp32": lambda: infer(net, phone),
            "autocast": with_ctx(
                lambda: torch.autocast("cpu", dtype=torch.bfloat16), lambda: infer(net, phone)
            ),
            "weights": lambda: infer(low, phone.to(torch.bfloat16)),
        },
        args.rounds,
    )
    ref = runs["fp32"]["out"]
    seed_rms = rms(_np(ref - infer(net, phone, seed=1)))
    extra = {
        k: {"diff_rms": round(rms(_np(ref - runs[k]["out"])), 5), "seed_to_seed_rms": round(seed_rms, 5)}
        for k in ("autocast", "weights")
    }
    summary("decoder", runs, extra)


# -- whole conversion ---------------------------------------------------------------------------


@contextlib.contextmanager
def bf16_part(pipe: Any, part: str) -> Iterator[None]:
    """Run one part of ``pipe`` under CPU bf16 autocast ("hubert", "rmvpe", "decoder", "all").

    RMVPE's network is patched on its class: the parity runs load it afresh after seeding.
    """
    from persona.rvc.f0.rmvpe import E2E

    with contextlib.ExitStack() as stack:
        if part in ("hubert", "all"):
            stack.enter_context(autocast_attr(pipe.content, "extract"))
        if part in ("rmvpe", "all"):
            stack.enter_context(autocast_attr(E2E, "forward"))
        if part in ("decoder", "all"):
            stack.enter_context(autocast_attr(pipe.voice.net_g, "infer"))
        if part == "decoder_weights":
            stack.enter_context(bf16_weights(pipe.voice.net_g))
        yield


_LOW: dict[int, Any] = {}


@contextlib.contextmanager
def bf16_weights(net: Any) -> Iterator[None]:
    """``net.infer`` runs a bf16 copy of ``net`` on bf16 features (pitch stays fp32)."""
    import copy

    if id(net) not in _LOW:
        _LOW[id(net)] = copy.deepcopy(net).to(torch.bfloat16)
    low = _LOW[id(net)]
    net.infer = lambda phone, *a, **k: low.infer(phone.to(torch.bfloat16), *a, **k)
    try:
        yield
    finally:
        del net.infer


def as_int16(out: np.ndarray) -> np.ndarray:
    return (out.astype(np.float64) * 32768).astype(np.int16).astype(np.float64) / 32768


def bench_convert(args: argparse.Namespace, tmp: Path) -> None:
    from persona.rvc.options import ConversionOptions
    from persona.testing.pipeline import fixture_pipeline, parity_input, write_pipeline_fixtures

    fx = write_pipeline_fixtures(tmp / "full", "full")
    pipe = fixture_pipeline(fx, "v2_f0", "index_v2")
    opts = ConversionOptions(f0_method="rmvpe", index_rate=0.75)
    x = parity_input(args.seconds, seed=7)

    def run(part: str | None, seed: int = 0, audio: np.ndarray = x) -> np.ndarray:
        torch.manual_seed(seed)  # RMVPE stays cached (loaded below): the same noise every run
        with bf16_part(pipe, part) if part else contextlib.nullcontext():
            return as_int16(pipe.convert(audio, opts)[0])

    run(None, audio=x[:16000])  # loads RMVPE

    parts = ["hubert", "rmvpe", "decoder", "decoder_weights", "all"]
    variants = {"fp32": lambda: run(None), **{p: (lambda p=p: run(p)) for p in parts}}
    runs = alternate(variants, args.convert_rounds, warmup=False)
    ref = runs["fp32"]["out"]
    bar = rms(ref - run(None, seed=1))
    extra = {}
    for p in parts:
        d = rms(ref - runs[p]["out"])
        extra[p] = {"diff_rms": round(d, 5), "seed_bar_rms": round(bar, 5), "pass": d <= bar}
    print(f"# convert: {args.seconds:.0f} s, fp32 output RMS {rms(ref):.4f}", flush=True)
    summary("convert", runs, extra)


def bench_parity(args: argparse.Namespace, tmp: Path) -> None:
    from persona.rvc.f0 import _rmvpe
    from persona.rvc.options import ConversionOptions
    from persona.testing.content import write_rmvpe
    from persona.testing.pipeline import fixture_pipeline, parity_input, write_pipeline_fixtures

    fx = write_pipeline_fixtures(tmp / "tiny", "tiny")
    full_rmvpe = write_rmvpe(tmp / "rmvpe_full" / "rmvpe.pt", seed=0, tiny=False)
    for name in ("v2_pm", "v1_nof0_resample", "v2_rmvpe"):
        data = np.load(REF / f"pipeline_{name}.npz")
        case = json.loads(str(data["case"]))
        model = "v2_f0" if case["model"].startswith("v2") else "v1_nof0"
        index = ("index_v2" if model == "v2_f0" else "index_v1") if case.get("index") else None
        use = {**fx, "rmvpe": full_rmvpe} if case["f0_method"] == "rmvpe" else fx
        pipe = fixture_pipeline(use, model, index)
        opts = ConversionOptions(
            pitch=case["pitch"], f0_method=case["f0_method"], index_rate=case["index_rate"],
            rms_mix_rate=case["rms_mix_rate"], protect=case["protect"],
            resample_sr=case.get("resample_sr", 0), f0_unvoiced=case.get("f0_unvoiced", "interpolate"),
        )  # fmt: skip
        x = parity_input(case["seconds"], seed=case["seed"])
        ref = data["out_int16"].astype(np.float64) / 32768
        bar = float(np.min(data["seed_diffs"]))
        parts = [None, "hubert", "decoder", "decoder_weights", "all"] + (
            ["rmvpe"] if case["f0_method"] == "rmvpe" else []
        )
        for part in parts:
            _rmvpe.cache_clear()  # the reference loaded RMVPE after seeding: its init draws move the noise
            torch.manual_seed(0)
            with bf16_part(pipe, part) if part else contextlib.nullcontext():
                out = as_int16(pipe.convert(x, opts)[0])
            d = rms(out - ref)
            row = {"part": "parity", "case": name, "bf16": part or "none (fp32)", "ours_vs_ref_rms": round(d, 6),
                   "bar_rms": round(bar, 6), "pass": d <= bar}  # fmt: skip
            print(json.dumps(row), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="htdemucs,hubert,rmvpe,decoder,convert,parity")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10.0, help="input of hubert/rmvpe/decoder/convert")
    ap.add_argument("--convert-rounds", type=int, default=2, help="whole conversions (no warm-up run)")
    ap.add_argument("--sep-seconds", type=float, default=0.0, help="song length (default: one chunk step)")
    ap.add_argument("--roformer-chunk-s", type=float, default=1.0)
    args = ap.parse_args()
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "?")
    flags = sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx")))
    print(f"# {cpu}, {os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"flags {' '.join(flags)}; fast bf16: {fast_bf16()}; load {load()}", flush=True)  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="persona_bf16_"))
    benches = {"hubert": bench_hubert, "rmvpe": bench_rmvpe, "decoder": bench_decoder,
               "convert": bench_convert, "parity": bench_parity}  # fmt: skip
    for part in args.parts.split(","):
        if part in benches:
            benches[part](args, tmp)
        else:
            bench_separator(part, args, tmp)


if __name__ == "__main__":
    main()
