"""Fixtures for training: tiny pretrained G/D in RVC's pretrained format, a v2-width HuBERT,
synthetic recordings, and an assets folder holding them under API.md's names.

* ``write_pretrained(folder, rate)``: ``f0G<rate>.pth`` / ``f0D<rate>.pth`` as RVC's
  ``pretrained_v2`` files are laid out (``{"model": state_dict}``, legacy weight-norm names),
  built from ``persona.training.config.training_config(rate, "tiny")`` (or ``"full"``: real size,
  random weights, for benchmarks).
* ``write_v2_hubert(folder)``: HuBERT with 768-wide hidden states (what a v2 model reads) but
  only two narrow layers, so feature extraction is fast; a transformers folder like ``hubert_base/``.
* ``write_recordings(folder)``: ``voice_like`` takes (distinct seeds and notes) as wav files.
* ``write_training_assets(assets_dir, rate)``: everything above at the names the assets manager
  resolves (``hubert_base/``, ``rmvpe.pt``, ``pretrained_v2/f0G40k.pth``, ``f0D40k.pth``).
* ``write_examples(folder, sr)``: noise examples with random features and a flat f0, for the
  training loop alone; ``random_batch(cfg)``: one collated batch of random tensors, for one step.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from persona.testing.pipeline import TINY_HUBERT_V2

# One tiny v2 HuBERT shape for every fixture (768-d last hidden state).
V2_HUBERT = TINY_HUBERT_V2


def build_pretrained(rate: str = "40k", model_size: str = "tiny", seed: int = 0, **overrides):
    """(net_g, net_d) with seeded random weights for ``training_config(rate, model_size)``."""
    from persona.training.config import training_config
    from persona.training.nets import build_discriminator, build_generator

    cfg = training_config(rate, model_size, **overrides)
    torch.manual_seed(seed)
    return build_generator(cfg), build_discriminator(cfg)


def write_pretrained(
    folder: str | os.PathLike[str], rate: str = "40k", model_size: str = "tiny", seed: int = 0, **overrides
) -> tuple[Path, Path]:
    """Write ``f0G<rate>.pth`` and ``f0D<rate>.pth`` into ``folder``; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    net_g, net_d = build_pretrained(rate, model_size, seed, **overrides)
    g, d = folder / f"f0G{rate}.pth", folder / f"f0D{rate}.pth"
    torch.save({"model": net_g.state_dict()}, g)
    torch.save({"model": net_d.state_dict()}, d)
    return g, d


def write_v2_hubert(folder: str | os.PathLike[str], seed: int = 0) -> Path:
    """A random HuBERT folder whose last hidden state is 768-d (v2 features)."""
    from transformers import HubertConfig

    from persona.rvc.content import HubertModelWithFinalProj

    folder = Path(folder)
    torch.manual_seed(seed)
    model = HubertModelWithFinalProj(HubertConfig(**V2_HUBERT)).eval()
    with torch.no_grad():  # small weights keep the random features in a sane range
        for p in model.parameters():
            if p.dim() > 1:
                p.mul_(0.5)
    model.save_pretrained(str(folder), safe_serialization=True)
    return folder


def write_recordings(
    folder: str | os.PathLike[str],
    *,
    count: int = 2,
    seconds: float = 7.0,
    sr: int = 44100,
    f0: float = 220.0,
    fmt: str = "wav16",
) -> list[Path]:
    """``count`` synthetic sung recordings of one "voice" (same f0 region, different phrases)."""
    from persona.testing.audio import write_voice

    return [
        write_voice(folder, f"take{i + 1}", seconds=seconds, sr=sr, fmt=fmt, seed=100 + i, f0=f0)
        for i in range(count)
    ]


def write_training_assets(
    assets_dir: str | os.PathLike[str], rate: str = "40k", model_size: str = "tiny", seed: int = 0
) -> Path:
    """Lay out an assets folder with what training needs (tiny random weights)."""
    from persona.testing.content import write_rmvpe

    root = Path(assets_dir)
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "hubert_base").exists():
        write_v2_hubert(root / "hubert_base", seed=seed)
    if not (root / "rmvpe.pt").exists():
        write_rmvpe(root / "rmvpe.pt", seed=seed)
    write_pretrained(root / "pretrained_v2", rate, model_size, seed)
    return root


def write_examples(folder: str | os.PathLike[str], sr: int, count: int = 3, seconds: float = 2.0) -> list:
    """``count`` training examples (noise, random 768-d features, f0 220 Hz) for ``loop.run``."""
    import numpy as np
    import soundfile as sf

    from persona.training.data import Example

    folder = Path(folder)
    rng = np.random.default_rng(0)
    frames = int(seconds * 100)
    out = []
    for i in range(count):
        wav, feat, p, pf = (folder / f"{i}{s}" for s in (".wav", ".npy", "_p.npy", "_pf.npy"))
        sf.write(wav, (0.1 * rng.standard_normal(int(seconds * sr))).astype(np.float32), sr, subtype="FLOAT")
        np.save(feat, rng.standard_normal((frames // 2, 768)).astype(np.float32))
        np.save(p, np.full(frames, 100, dtype=np.int64))
        np.save(pf, np.full(frames, 220.0, dtype=np.float32))
        out.append(Example(wav, feat, p, pf))
    return out


def random_batch(cfg, frames: int = 40, b: int = 2, seed: int = 3) -> tuple[torch.Tensor, ...]:
    """One batch as ``training.data.collate`` gives it (phone, lengths, pitch, pitchf, spec,
    spec lengths, wave, wave lengths, speaker), random, for ``loop.train_step``."""
    g = torch.Generator().manual_seed(seed)
    d = cfg.data
    lengths = torch.tensor([frames - 6 * i for i in range(b)])
    phone = torch.randn(b, frames, 768, generator=g)
    pitch = torch.randint(1, 255, (b, frames), generator=g)
    pitchf = torch.rand(b, frames, generator=g) * 300 + 80
    spec = torch.rand(b, cfg.spec_channels, frames, generator=g)
    wave = torch.randn(b, 1, frames * d.hop_length, generator=g) * 0.1
    sid = torch.zeros(b, dtype=torch.long)
    return phone, lengths, pitch, pitchf, spec, lengths.clone(), wave, lengths * d.hop_length, sid
