"""Export the trained generator as RVC's small model (``assets/weights/<name>.pth``).

Exactly the dictionary RVC's `train/process_ckpt.py` ``savee`` writes: ``weight`` (the
generator's state dict in float16, without the posterior encoder ``enc_q``), ``config`` (the
18-item synthesizer argument list), ``info`` ("<n>epoch"), ``sr`` ("40k"), ``f0`` (1) and
``version`` ("v2"). Written atomically.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch

from persona.fsutil import atomic_path
from persona.training.config import TrainConfig


def small_model_dict(state: dict[str, torch.Tensor], cfg: TrainConfig, epochs: int) -> dict:
    weight = OrderedDict((k, v.detach().cpu().half()) for k, v in state.items() if "enc_q" not in k)
    return OrderedDict(
        weight=weight,
        config=cfg.export_config(),
        info=f"{epochs}epoch",
        sr=cfg.rate,
        f0=1,
        version=cfg.version,
    )


def export_small_model(net_g: torch.nn.Module, cfg: TrainConfig, epochs: int, target: Path) -> Path:
    with atomic_path(target) as tmp:
        torch.save(small_model_dict(net_g.state_dict(), cfg, epochs), tmp)
    return target
