"""Export the trained generator as RVC's small model (what RVC writes to ``assets/weights``).

RVC's `train/process_ckpt.py` ``savee`` format, written by ``persona.rvc.export``'s
``export_small_model`` (the one owner of that format): ``weight`` (fp16, without ``enc_q``),
``config`` (18 entries), ``info`` ("<n>epoch"), ``sr`` ("40k"), ``f0`` (1), ``version`` ("v2"),
plus Persona's ``persona`` record (``persona.rvc.record``: the f0 convention it was trained with).
"""

from __future__ import annotations

from pathlib import Path

import torch

from persona.training.config import TrainConfig


def export_small_model(
    net_g: torch.nn.Module, cfg: TrainConfig, epochs: int, target: Path, *, f0_unvoiced: str = "zero"
) -> Path:
    from persona.rvc.export import export_small_model as export
    from persona.rvc.record import make_record

    return export(
        net_g,
        config=cfg.export_config(),
        sr=cfg.rate,
        f0=True,
        version=cfg.version,
        info=f"{epochs}epoch",
        path=target,
        record=make_record(f0_unvoiced, embedder="contentvec"),
    )
