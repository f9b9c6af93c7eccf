"""Benchmark the cover pipeline: wall time per stage, cached second cover, peak memory.

Full-size random-weight separation models (the published architectures, see
persona.testing.separation) on a synthetic stereo song at 44.1 kHz. The conversion stage uses
a stand-in of fixed cost unless ``--real-convert`` is given: then it is the real RVC conversion
(``persona.rvc.convert.convert_audio``) with full-size random-weight models in RVC's formats
(HuBERT base, RMVPE, a v2 40k f0 model, a 2000-vector index; written once into ``--fixtures``,
the same folder ``bench_convert.py`` uses), f0 ``rmvpe``, index_rate 0.75. Everything else is
the real code. Each case runs in a fresh process so peak RSS (VmHWM) is its own; CPU seconds
(user + system, all threads) are recorded per stage next to wall time.

    .venv/bin/python benchmarks/bench_cover.py --model bs_roformer --seconds 210
    .venv/bin/python benchmarks/bench_cover.py --model htdemucs --seconds 600 --once
    .venv/bin/python benchmarks/bench_cover.py --model htdemucs --seconds 210 --once --real-convert
    .venv/bin/python benchmarks/bench_cover.py --model htdemucs --seconds 210 --once --real-convert \
        --song-shape --true-vocals      # a sung song's shape; time to first sound

``--song-shape`` gives the synthetic song a real song's structure: the vocal is silent in the
intro, an instrumental break, a solo and the outro, and rests 1.8 s after every 8 s of singing
(sung 60 % of the time, as pop songs are). A random-weight separator does not leave those spans
silent, so ``--true-vocals`` runs the separation model at its full cost and then hands on the
song's own vocal for each segment (what a trained separator gives): the conversion then sees the
shape a real song has. Each run records the time to the first playable sound and to the first
20 s (``metrics.ready_s`` of the progressive cover), wall and CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf


def stand_in_convert(settings, model, audio, sr, options, progress, cancel, **kw):
    """Cost of a light conversion: resample to 40 kHz and back through a gain."""
    from persona.audio.resample import resample

    out = resample(np.asarray(audio, np.float32), sr, 40000) * 0.8
    progress("convert", 1.0)
    return out, 40000


def _reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets the process's peak RSS (VmHWM)."""
    import gc

    from persona.runtime import release_memory

    gc.collect()
    release_memory()  # the freed fixture arrays go back to the system first (malloc_trim)
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# (seconds, sung) for a 3:30 song; scaled to other lengths.
SONG_SHAPE = [
    (10, False),
    (35, True),
    (25, True),
    (12, False),
    (35, True),
    (25, True),
    (18, False),
    (35, True),
    (15, False),
]
PHRASE_S, REST_S = 8.0, 1.8


def vocal_gate(seconds: float, sr: int) -> np.ndarray:
    """1 where the shaped song is sung, 0 elsewhere (20 ms ramps)."""
    n = int(seconds * sr)
    gate = np.zeros(n, np.float32)
    scale = seconds / sum(d for d, _ in SONG_SHAPE)
    t = 0.0
    for dur, sung in SONG_SHAPE:
        dur *= scale
        if sung:
            p = t
            while p < t + dur:
                a, b = int(p * sr), int(min(p + PHRASE_S, t + dur) * sr)
                gate[a:b] = 1.0
                p += PHRASE_S + REST_S
        t += dur
    ramp = int(0.02 * sr)
    return np.convolve(gate, np.ones(ramp, np.float32) / ramp, mode="same").astype(np.float32)


def use_true_vocals(vocals: np.ndarray, folder: Path) -> None:
    """The separator runs at full cost, then gives each segment's true vocal (see the docstring).

    The vocal waits in a file and each segment's span is read from it, so the benchmark's own
    copy of a long song's vocal (423 MB for 20 minutes) is not counted as the pipeline's memory."""
    from persona.separation import engine

    store = folder / "true_vocals.f32"  # (frames, 2) float32
    np.ascontiguousarray(vocals.T, dtype=np.float32).tofile(store)
    run = engine._run_at_model_rate
    state = {"pos": 0}

    def oracle(runner, x, sr, on_chunk):
        run(runner, x, sr, on_chunk)  # the model's full cost; its random-weight output is dropped
        seg = engine.segment_frames(runner, sr, engine.SEGMENT_S)
        a = state["pos"]
        state["pos"] += seg - min(int(engine.OVERLAP_S * sr), seg // 4)
        span = np.fromfile(store, dtype=np.float32, count=2 * x.shape[1], offset=8 * a)
        return np.ascontiguousarray(span.reshape(-1, 2).T)

    engine._run_at_model_rate = oracle


class StagePeaks:
    """Samples the process's RSS every 50 ms and keeps the highest value seen in each stage."""

    def __init__(self) -> None:
        import threading

        self.stage = "start"
        self.peaks: dict[str, int] = {}
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                for line in Path("/proc/self/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        mb = int(line.split()[1]) // 1024
                        self.peaks[self.stage] = max(self.peaks.get(self.stage, 0), mb)
            except OSError:
                return
            time.sleep(0.05)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="bs_roformer")
    ap.add_argument("--seconds", type=float, default=210.0)
    ap.add_argument("--once", action="store_true", help="skip the cached second cover")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument(
        "--size",
        default="full",
        choices=("full", "tiny"),
        help="tiny: the pipeline's own memory/time with a near-free model (long songs)",
    )
    ap.add_argument("--real-convert", action="store_true", help="the real RVC conversion (full-size models)")
    ap.add_argument(
        "--song-shape", action="store_true", help="a sung song's shape (silent intro, breaks, rests)"
    )
    ap.add_argument(
        "--true-vocals", action="store_true", help="separation at full cost, then the song's own vocal"
    )
    ap.add_argument(
        "--fixtures",
        default=str(Path(tempfile.gettempdir()) / "persona_bench_convert"),
        help="full-size conversion fixtures (written on first use; shared with bench_convert.py)",
    )
    args = ap.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from persona.cover import CoverRequest
    from persona.cover.pipeline import make_cover
    from persona.rvc.options import ConversionOptions
    from persona.settings import Settings
    from persona.testing.separation import synthetic_song, write_model

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        voice = index = None
        assets = tmp / "assets"
        if args.real_convert:
            from bench_convert import ensure_fixtures

            fx = ensure_fixtures(Path(args.fixtures))
            assets = Path(args.fixtures)  # HuBERT + RMVPE where the asset manager looks for them
            voice, index = fx["v2_f0"], fx["index_v2"]
        settings = Settings(home=tmp / "home", assets_dir=assets, device="cpu")
        _, config = write_model(settings.assets, args.model, args.size)
        if args.size == "tiny":  # 1 s chunks: fewer calls, so the run shows the pipeline's own cost
            import yaml

            cfg = yaml.safe_load(config.read_text())
            cfg["audio"]["chunk_size"] = 64 * 690
            config.write_text(yaml.safe_dump(cfg, sort_keys=False))
        song = tmp / "song.wav"
        parts = synthetic_song(args.seconds, 44100)
        if args.song_shape:
            parts["vocals"] = parts["vocals"] * vocal_gate(args.seconds, 44100)
            parts["mix"] = parts["vocals"] + parts["instrumental"]
        sf.write(str(song), parts["mix"].T, 44100, subtype="PCM_16")
        if args.true_vocals:
            use_true_vocals(parts["vocals"], tmp)
        del parts
        _reset_peak_rss()  # the fixture song's float64 synthesis must not count as the pipeline's
        pth = voice or tmp / "voice.pth"
        if voice is None:
            pth.write_bytes(b"stand-in")  # the stand-in convert never opens it
        runs = []
        sampler = StagePeaks()
        for i in range(1 if args.once else 2):
            req = CoverRequest(
                song=song,
                model=str(pth),
                output=tmp / f"cover{i}.wav",
                separation_model=args.model,
                index=index,
                conversion=ConversionOptions(f0_method="rmvpe", index_rate=0.75),
            )
            t0 = time.perf_counter()
            import persona.cover.pipeline as pl

            if voice is None:
                pl._index_in_use = lambda s, r: False  # noqa: E731 - the stand-in has no model file to read
            c0 = time.process_time()
            cpu: dict[str, float] = {}
            at = {"stage": None, "cpu": c0}
            first: dict[str, list[float]] = {}

            def progress(
                stage, fraction, message="", _cpu=cpu, _at=at, _first=first, _run=i, _t0=t0, _c0=c0, **kw
            ):
                now = time.process_time()  # CPU seconds go to the stage that was reporting
                if _at["stage"] is not None:
                    _cpu[_at["stage"]] = _cpu.get(_at["stage"], 0.0) + now - _at["cpu"]
                if stage != _at["stage"] or now - _at.get("said", 0.0) > 30:  # a trace of a long run
                    _at["said"] = now
                    print(
                        f"# {time.perf_counter() - _t0:.1f} s wall, {now - _c0:.1f} CPU-s: {stage} "
                        f"{fraction:.3f} ready {kw.get('ready_s', '-')}",
                        file=sys.stderr,
                        flush=True,
                    )
                _at["stage"], _at["cpu"] = stage, now
                sampler.stage = f"{stage}{_run}"
                ready = kw.get("ready_s") or 0.0
                for name, need in (("first_sound", 0.0), ("first_20s", 20.0)):
                    if ready > need and name not in _first:
                        _first[name] = [round(time.perf_counter() - _t0, 1), round(now - _c0, 1)]
                        print(f"# {name}: {_first[name][0]} s wall, {_first[name][1]} CPU-s", file=sys.stderr)

            r0 = resource.getrusage(resource.RUSAGE_SELF)
            res = make_cover(
                settings,
                req,
                progress,
                convert_fn=None if voice else stand_in_convert,
                preview=tmp / f"preview{i}.pcm",  # as the cover job makes it: playable while it runs
            )
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            c1 = time.process_time()
            if at["stage"] is not None:
                cpu[at["stage"]] = cpu.get(at["stage"], 0.0) + c1 - at["cpu"]
            runs.append(
                {
                    "total_s": round(time.perf_counter() - t0, 2),
                    "cpu_total_s": round(c1 - c0, 2),
                    "system_s": round(r1.ru_stime - r0.ru_stime, 2),
                    "stages": res.stages,
                    "stages_cpu": {k: round(v, 1) for k, v in cpu.items()},
                    "first_sound_s_cpu": first.get("first_sound"),  # [wall s, CPU s] after the request
                    "first_20s_s_cpu": first.get("first_20s"),
                    "cached": res.stems_cached,
                    "lufs": round(res.loudness_lufs, 2),
                    "true_peak_db": round(res.true_peak_db, 2),
                }
            )
        peak_mb = _peak_rss_mb()
        print(
            json.dumps(
                {
                    "load_avg": [round(x, 1) for x in os.getloadavg()],
                    "model": args.model,
                    "size": args.size,
                    "seconds": args.seconds,
                    "threads": torch.get_num_threads(),
                    "real_convert": bool(voice),
                    "song_shape": args.song_shape,
                    "true_vocals": args.true_vocals,
                    "cpu_model": _cpu_model(),
                    "runs": runs,
                    "peak_rss_mb": round(peak_mb),
                    "stage_peak_rss_mb": sampler.peaks,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
