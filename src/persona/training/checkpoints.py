"""Training checkpoints in RVC's ``G_*.pth`` / ``D_*.pth`` format, saved atomically.

Format of RVC's `train/utils.py` ``save_checkpoint``: ``{"model": state_dict, "iteration":
epoch, "optimizer": optimizer state, "learning_rate": lr}``; we add ``"persona": {...}`` (global
step, target epochs) which RVC ignores. Files are named ``G_2333333.pth`` as RVC's "save only the
latest" option names them. Each file is written to a temporary name and renamed, D before G, so a
crash mid-save leaves the previous pair readable; ``iteration`` is the number of *completed*
epochs (RVC repeats that epoch on resume; we continue with the next one).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from persona.errors import PersonaError
from persona.fsutil import atomic_path

LATEST = 2333333


@dataclasses.dataclass
class Checkpoint:
    g: dict[str, Any]
    d: dict[str, Any]

    @property
    def epoch(self) -> int:
        return int(self.g["iteration"])

    @property
    def global_step(self) -> int:
        return int(self.g.get("persona", {}).get("global_step", 0))


def paths(exp_dir: Path) -> tuple[Path, Path]:
    return exp_dir / f"G_{LATEST}.pth", exp_dir / f"D_{LATEST}.pth"


def _payload(model: torch.nn.Module, optimizer: torch.optim.Optimizer, epoch: int, extra: dict) -> dict:
    return {
        "model": model.state_dict(),
        "iteration": epoch,
        "optimizer": optimizer.state_dict(),
        "learning_rate": optimizer.param_groups[0]["lr"],
        "persona": extra,
    }


def save(
    exp_dir: Path,
    net_g: torch.nn.Module,
    net_d: torch.nn.Module,
    optim_g: torch.optim.Optimizer,
    optim_d: torch.optim.Optimizer,
    *,
    epoch: int,
    global_step: int,
    extra: dict | None = None,
) -> Path:
    """Save both nets; returns the G path."""
    info = {"global_step": global_step, **(extra or {})}
    g_path, d_path = paths(exp_dir)
    for path, net, opt in ((d_path, net_d, optim_d), (g_path, net_g, optim_g)):
        with atomic_path(path) as tmp:
            torch.save(_payload(net, opt, epoch, info), tmp)
    return g_path


def load(exp_dir: Path) -> Checkpoint | None:
    """The last saved pair, or None when there is none."""
    g_path, d_path = paths(exp_dir)
    if not (g_path.exists() and d_path.exists()):
        return None
    try:
        g = torch.load(g_path, map_location="cpu", weights_only=True)
        d = torch.load(d_path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise PersonaError(
            "checkpoint_invalid", f"the training checkpoint in {exp_dir} cannot be read"
        ) from exc
    return Checkpoint(g=g, d=d)


def load_pretrained(path: Path) -> dict[str, torch.Tensor]:
    """The ``model`` state dict of an RVC pretrained G/D file (``pretrained_v2/f0G40k.pth``)."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise PersonaError("model_invalid", f"{path.name} is not a readable pretrained model") from exc
    state = ckpt.get("model", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise PersonaError("model_invalid", f"{path.name} holds no model weights")
    from persona.rvc.nn.weightnorm import canonical_weight_names

    # Applio-era files use parametrized weight-norm names; map them onto RVC's.
    return canonical_weight_names(state)
