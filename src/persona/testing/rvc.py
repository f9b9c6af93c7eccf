"""Tiny (and full-size) random-weight RVC models written in RVC's exact file formats.

Used by unit, integration and end-to-end tests and by benchmarks: ``tiny_config`` keeps the real
upsample rates (so the hop, 100 frames/s and the output sample rate are right) but uses few
channels and layers; ``full_config`` is RVC's own configuration. Weights are drawn from a seeded
legacy NumPy ``RandomState`` key by key in sorted order (a stable stream), scaled so activations
stay in a sensible range (fan-in scaling, weight-norm magnitudes near 1), so outputs are neither
silent nor saturated. Writers produce RVC's exported small model (optionally Applio's variant),
training checkpoints ``G_*.pth`` / ``D_*.pth`` and RVC's experiment ``config.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from persona.rvc.models import (
    FILTER_LENGTHS,
    SR2SR,
    UPSAMPLE_CONFIGS,
    build_synthesizer,
    discriminator_for,
    standard_config,
)


def _check(sr: str, version: str) -> None:
    if sr not in SR2SR:
        raise ValueError(f"sr must be one of {sorted(SR2SR)}, got {sr!r}")
    if version not in ("v1", "v2"):
        raise ValueError(f"version must be 'v1' or 'v2', got {version!r}")


def full_config(sr: str = "40k", version: str = "v2", f0: bool = True) -> list[Any]:
    """RVC's exported 18-entry config list for this rate and version (``f0`` does not change it)."""
    _check(sr, version)
    return standard_config(sr, version)


def tiny_config(sr: str = "40k", version: str = "v2", f0: bool = True) -> list[Any]:
    """A small config (8/16 channels, 2 attention layers) with RVC's real upsample rates."""
    _check(sr, version)
    rates, kernels = UPSAMPLE_CONFIGS[(version, sr)]
    return [
        FILTER_LENGTHS[sr] // 2 + 1, 32, 8, 16, 32, 2, 2, 3, 0, "1", [3, 7, 11],
        [[1, 3, 5], [1, 3, 5], [1, 3, 5]], list(rates), 64, list(kernels), 4, 8, SR2SR[sr],
    ]  # fmt: skip


def randomize_(module: nn.Module, seed: int = 0) -> nn.Module:
    """Fill every parameter of ``module`` in place with seeded, well-scaled random values."""
    module.load_state_dict(random_state_dict(module.state_dict(), seed), strict=True)
    return module


def random_state_dict(template: Mapping[str, torch.Tensor], seed: int = 0) -> dict[str, torch.Tensor]:
    """Random float32 tensors with ``template``'s keys and shapes (keys drawn in sorted order)."""
    rng = np.random.RandomState(seed)
    out: dict[str, torch.Tensor] = {}
    for key in sorted(template):
        shape = tuple(template[key].shape)
        n = rng.standard_normal(size=shape)
        leaf = key.rsplit(".", 1)[-1]
        if leaf == "weight_g":
            arr = 0.5 + 0.5 * np.abs(n)
        elif leaf == "gamma":
            arr = 1.0 + 0.1 * n
        elif leaf in ("bias", "beta"):
            arr = 0.1 * n
        elif leaf in ("emb_rel_k", "emb_rel_v"):
            arr = n * shape[-1] ** -0.5
        elif key.endswith(("emb_pitch.weight", "emb_g.weight")) or len(shape) < 2:
            arr = n  # embeddings: unit variance
        else:
            arr = n / np.sqrt(int(np.prod(shape[1:])))  # fan-in scaling
        out[key] = torch.from_numpy(np.asarray(arr, dtype=np.float32).reshape(shape))
    return {k: out[k] for k in template}  # keep the template's order


def build_random_synthesizer(
    config: list[Any], version: str = "v2", f0: bool = True, seed: int = 0, *, with_posterior: bool = True
) -> nn.Module:
    """A synthesizer with seeded random weights, in eval mode."""
    net_g = build_synthesizer(config, version, f0, with_posterior=True)
    randomize_(net_g, seed)
    if not with_posterior:
        del net_g.enc_q
    return net_g.eval()


def random_inputs(
    config: list[Any], version: str = "v2", frames: int = 40, seed: int = 0, batch: int = 1
) -> dict[str, torch.Tensor]:
    """Inference inputs like RVC's pipeline gives them: features at 100 frames/s, coarse pitch
    1..255, f0 in Hz (with unvoiced stretches at 0) and speaker id 0."""
    g = torch.Generator().manual_seed(seed)
    dim = 768 if version == "v2" else 256
    phone = torch.randn(batch, frames, dim, generator=g)
    f0 = 110.0 * 2 ** (torch.rand(batch, frames, generator=g) * 3)
    f0[:, : frames // 8] = 0.0
    f0[:, frames // 2 : frames // 2 + frames // 10] = 0.0
    f0_mel = 1127 * torch.log(1 + f0 / 700)
    mel_min, mel_max = 1127 * np.log(1 + 50 / 700), 1127 * np.log(1 + 1100 / 700)
    coarse = torch.where(f0_mel > 0, (f0_mel - mel_min) * 254 / (mel_max - mel_min) + 1, f0_mel)
    coarse = torch.round(coarse.clamp(1, 255)).long()
    return {
        "phone": phone,
        "phone_lengths": torch.full((batch,), frames, dtype=torch.long),
        "pitch": coarse,
        "nsff0": f0,
        "sid": torch.zeros(batch, dtype=torch.long),
    }


def write_small_model(
    path: str | os.PathLike[str],
    *,
    sr: str = "40k",
    version: str = "v2",
    f0: bool = True,
    seed: int = 0,
    tiny: bool = True,
    applio: bool = False,
    info: str = "1epoch",
    name: str = "tiny",
) -> Path:
    """Write an exported small model in RVC's format (or Applio's with ``applio=True``:
    extra metadata keys and ``parametrizations.weight.original0/1`` weight names)."""
    from persona.rvc.export import export_small_model

    config = tiny_config(sr, version, f0) if tiny else full_config(sr, version, f0)
    net_g = build_random_synthesizer(config, version, f0, seed)
    extra = None
    if applio:
        extra = {
            "epoch": 1,
            "step": 10,
            "creation_date": "2026-01-01T00:00:00",
            "model_hash": "0" * 64,
            "overtrain_info": "",
            "dataset_length": 60.0,
            "model_name": name,
            "author": "tests",
            "embedder_model": "contentvec",
            "speakers_id": 0,
            "vocoder": "HiFi-GAN",
        }
    out = export_small_model(
        net_g, config=config, sr=sr, f0=f0, version=version, info=info, path=path, extra=extra
    )
    if applio:
        ckpt = torch.load(out, map_location="cpu", weights_only=True)
        ckpt["weight"] = _to_parametrization_names(ckpt["weight"])
        ckpt["sr"] = SR2SR[sr]
        ckpt["f0"] = bool(f0)
        del ckpt["info"]
        torch.save(ckpt, out)
    return out


def _to_parametrization_names(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        if key.endswith(".weight_g"):
            key = key[: -len(".weight_g")] + ".parametrizations.weight.original0"
        elif key.endswith(".weight_v"):
            key = key[: -len(".weight_v")] + ".parametrizations.weight.original1"
        out[key] = value
    return out


def hparams_json(config: list[Any], version: str, f0: bool) -> dict[str, Any]:
    """RVC's experiment ``config.json`` (``train``/``data``/``model`` sections) for ``config``."""
    sr = int(config[17])
    hop = int(np.prod(config[12]))
    return {
        "train": {
            "log_interval": 200, "seed": 1234, "epochs": 20000, "learning_rate": 1e-4,
            "betas": [0.8, 0.99], "eps": 1e-9, "batch_size": 4, "fp16_run": False,
            "lr_decay": 0.999875, "segment_size": hop * config[1], "init_lr_ratio": 1,
            "warmup_epochs": 0, "c_mel": 45, "c_kl": 1.0,
        },
        "data": {
            "max_wav_value": 32768.0, "sampling_rate": sr, "filter_length": (config[0] - 1) * 2,
            "hop_length": hop, "win_length": (config[0] - 1) * 2, "n_mel_channels": 128,
            "mel_fmin": 0.0, "mel_fmax": None,
        },
        "model": {
            "inter_channels": config[2], "hidden_channels": config[3], "filter_channels": config[4],
            "n_heads": config[5], "n_layers": config[6], "kernel_size": config[7],
            "p_dropout": config[8], "resblock": config[9], "resblock_kernel_sizes": config[10],
            "resblock_dilation_sizes": config[11], "upsample_rates": config[12],
            "upsample_initial_channel": config[13], "upsample_kernel_sizes": config[14],
            "use_spectral_norm": False, "gin_channels": config[16], "spk_embed_dim": config[15],
        },
        "version": version,
        "if_f0": int(f0),
    }  # fmt: skip


def write_training_checkpoint(
    path: str | os.PathLike[str],
    *,
    sr: str = "40k",
    version: str = "v2",
    f0: bool = True,
    seed: int = 0,
    tiny: bool = True,
    iteration: int = 3,
    with_optimizer: bool = True,
    config_json: bool = False,
) -> Path:
    """Write a generator training checkpoint (``G_*.pth``: model, iteration, optimizer,
    learning_rate) as RVC's ``utils.save_checkpoint`` does; optionally RVC's ``config.json``
    beside it."""
    from persona.rvc.train_checkpoint import save_training_checkpoint

    config = tiny_config(sr, version, f0) if tiny else full_config(sr, version, f0)
    net_g = build_random_synthesizer(config, version, f0, seed)
    optimizer = (
        torch.optim.AdamW(net_g.parameters(), 1e-4, betas=(0.8, 0.99), eps=1e-9) if with_optimizer else None
    )
    out = save_training_checkpoint(net_g, optimizer, 1e-4, iteration, path)
    if config_json:
        (Path(path).parent / "config.json").write_text(
            json.dumps(hparams_json(config, version, f0), indent=2)
        )
    return out


def write_discriminator_checkpoint(
    path: str | os.PathLike[str],
    *,
    version: str = "v2",
    seed: int = 0,
    channel_divisor: int = 16,
    iteration: int = 3,
    with_optimizer: bool = True,
) -> Path:
    """Write a ``D_*.pth`` (``channel_divisor=1`` gives RVC's real, large discriminator)."""
    from persona.rvc.train_checkpoint import save_training_checkpoint

    net_d = discriminator_for(version, channel_divisor=channel_divisor)
    randomize_(net_d, seed)
    optimizer = (
        torch.optim.AdamW(net_d.parameters(), 1e-4, betas=(0.8, 0.99), eps=1e-9) if with_optimizer else None
    )
    return save_training_checkpoint(net_d, optimizer, 1e-4, iteration, path)
