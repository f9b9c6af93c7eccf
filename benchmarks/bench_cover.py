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
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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

    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
        mix = synthetic_song(args.seconds, 44100)["mix"]
        sf.write(str(song), mix.T, 44100, subtype="PCM_16")
        del mix
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
            marks: dict[str, float] = {}

            def progress(stage, fraction, message="", _marks=marks, _run=i, **kw):
                _marks.setdefault(stage, time.process_time())  # CPU seconds at each stage's start
                sampler.stage = f"{stage}{_run}"

            c0 = time.process_time()
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            res = make_cover(settings, req, progress, convert_fn=None if voice else stand_in_convert)
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            c1 = time.process_time()
            names = list(res.stages)
            ends = [marks.get(n, c1) for n in names[1:]] + [c1]
            cpu = {n: round(e - marks.get(n, c0), 2) for n, e in zip(names, ends, strict=True)}
            runs.append(
                {
                    "total_s": round(time.perf_counter() - t0, 2),
                    "cpu_total_s": round(c1 - c0, 2),
                    "system_s": round(r1.ru_stime - r0.ru_stime, 2),
                    "stages": res.stages,
                    "stages_cpu": cpu,
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
                    "runs": runs,
                    "peak_rss_mb": round(peak_mb),
                    "stage_peak_rss_mb": sampler.peaks,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
