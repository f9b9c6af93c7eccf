"""Build the generator and discriminator that training updates (RVC v2 classes from persona.rvc)."""

from __future__ import annotations

import torch

from persona.training.config import TrainConfig


def build_generator(cfg: TrainConfig, *, is_half: bool = False) -> torch.nn.Module:
    """``SynthesizerTrnMs768NSFsid`` with RVC's training arguments (spec channels, segment frames)."""
    from persona.rvc.models import SynthesizerTrnMs768NSFsid

    args, kwargs = cfg.synthesizer_args()
    return SynthesizerTrnMs768NSFsid(*args, **kwargs, is_half=is_half)


def build_discriminator(cfg: TrainConfig) -> torch.nn.Module:
    from persona.rvc.models import MultiPeriodDiscriminatorV2

    return MultiPeriodDiscriminatorV2(False, channel_divisor=cfg.d_channel_divisor)
