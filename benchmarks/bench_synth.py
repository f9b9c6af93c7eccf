"""Synthesizer speed: full-size RVC v2 40k (f0) ``infer`` on N seconds of frames, random weights.

Run: ``.venv/bin/python benchmarks/bench_synth.py [seconds]``. Prints the real-time factor
(compute time / audio time, lower is faster) and peak RSS. Random weights cost the same as real
ones. The reference implementation's figure is measured the same way from a separate script
(not in this repository) and recorded in ``benchmarks/README.md``.
"""

from __future__ import annotations

import resource
import sys
import time

import torch

from persona.rvc.models import standard_config
from persona.testing.rvc import build_random_synthesizer, random_inputs


def main(seconds: float = 5.0, repeats: int = 3) -> None:
    config = standard_config("40k", "v2")
    net = build_random_synthesizer(config, "v2", True, seed=0, with_posterior=False)
    frames = int(seconds * 100)
    inp = random_inputs(config, "v2", frames=frames, seed=1)
    args = (inp["phone"], inp["phone_lengths"], inp["pitch"], inp["nsff0"], inp["sid"])
    times = []
    with torch.inference_mode():
        for _ in range(repeats):
            start = time.perf_counter()
            net.infer(*args, generator=torch.Generator().manual_seed(0))
            times.append(time.perf_counter() - start)
    best = min(times)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"v2 40k f0, {seconds:.0f} s audio, {torch.get_num_threads()} threads: best {best:.2f} s, RTF {best / seconds:.3f}, peak RSS {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)
