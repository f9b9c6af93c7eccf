"""Cost of the quality metrics of one training save (persona.quality) on a 9 s preview slice.

Per metric: the first call (loads the model: Resemblyzer, SwiftF0, DNSMOS ONNX) and a warm call,
wall and process-CPU seconds. The per-save cost of a training is the warm column (plus the
conversion of the slice, see bench_convert.py). Usage: ``python benchmarks/bench_quality.py``.
"""

from __future__ import annotations

import time

from persona.quality import evaluate, source_contour, speaker
from persona.testing.audio import voice_like


def timed(fn):  # noqa: ANN001, ANN201
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def main() -> None:
    sr = 40000
    held = voice_like(9.0, sr, seed=1)
    converted = voice_like(9.0, sr, f0=230.0, seed=1)
    training = [voice_like(30.0, sr, seed=2)]
    wall, cpu, voice = timed(lambda: speaker.voice_embedding(training, sr))
    print(f"voice embedding of 30 s (once per training): wall {wall:.2f} s, CPU {cpu:.2f} s")
    wall, cpu, contour = timed(lambda: source_contour(held, sr, "rmvpe"))
    print(f"f0 of the slice (once per training): wall {wall:.2f} s, CPU {cpu:.2f} s")
    for metric in ("similarity", "f0", "dnsmos"):
        for label in ("first", "warm"):
            wall, cpu, _ = timed(
                lambda metric=metric: evaluate(
                    converted,
                    sr,
                    held,
                    sr,
                    voice=voice,
                    conversion_f0="rmvpe",
                    metrics=[metric],
                    source_f0=contour,
                )
            )
            print(f"{metric:10s} {label}: wall {wall:.2f} s, CPU {cpu:.2f} s")
    wall, cpu, _ = timed(lambda: evaluate(converted, sr, held, sr, voice=voice, source_f0=contour))
    print(f"all metrics of one save (warm): wall {wall:.2f} s, CPU {cpu:.2f} s")


if __name__ == "__main__":
    main()
