"""Training checkpoints in RVC's format (``train/utils.py: save_checkpoint`` / ``load_checkpoint``):
``G_*.pth`` / ``D_*.pth`` hold ``{"model": state_dict, "iteration": epoch, "optimizer": optimizer
state, "learning_rate": float}`` (pretrained files may hold only ``model``); an experiment keeps
its latest G/D pair under RVC's ``2333333`` name. Files are written atomically and read through
``persona.rvc.pth.read_checkpoint``; their plain entries are bounded like a voice model's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from persona.errors import PersonaError
from persona.fsutil import atomic_path
from persona.rvc.plain_data import check_entries
from persona.rvc.pth import invalid, read_checkpoint, tensor_dict, unwrap
from persona.rvc.record import KEY as RECORD_KEY
from persona.rvc.voice_model import check_weights

# A v2 discriminator (the largest net RVC trains) has 71,410,594 parameters; twice that bounds
# what a G/D or pretrained file may hold.
MAX_TRAINING_PARAMETERS = 2 * 71_410_594

__all__ = [
    "LATEST",
    "SavedPair",
    "TrainingCheckpoint",
    "load_pair",
    "load_pretrained",
    "load_training_checkpoint",
    "pair_paths",
    "save_pair",
    "save_training_checkpoint",
]


@dataclass
class TrainingCheckpoint:
    """What ``load_training_checkpoint`` restored."""

    iteration: int
    learning_rate: float | None
    missing: list[str] = field(default_factory=list)  # kept the model's own values (strict=False)
    mismatched: list[str] = field(default_factory=list)  # kept the model's own values (strict=False)
    unexpected: list[str] = field(default_factory=list)  # ignored (strict=False)


def save_training_checkpoint(
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    learning_rate: float,
    iteration: int,
    path: str | os.PathLike[str],
    *,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write RVC's ``G_*.pth`` / ``D_*.pth`` format (``model``, ``iteration``, ``optimizer``,
    ``learning_rate``) atomically. ``iteration`` is the epoch, as in RVC; ``extra`` is stored
    under ``"persona"`` (RVC's ``load_checkpoint`` ignores it)."""
    ckpt: dict[str, Any] = {"model": unwrap(model).state_dict(), "iteration": int(iteration)}
    if optimizer is not None:
        ckpt["optimizer"] = optimizer.state_dict()
    ckpt["learning_rate"] = float(learning_rate)
    if extra is not None:
        ckpt[RECORD_KEY] = dict(extra)
    with atomic_path(path) as tmp:
        torch.save(ckpt, tmp)
    return Path(path)


def load_training_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    *,
    strict: bool = True,
) -> TrainingCheckpoint:
    """Load a ``G_*.pth`` / ``D_*.pth`` (or a pretrained ``f0G40k.pth``-style file) into ``model``.

    ``strict=True``: every key and shape must match (``model_invalid`` otherwise).
    ``strict=False`` behaves like RVC's ``load_checkpoint``: missing or mismatched tensors keep
    the model's own values and are reported, unexpected ones are ignored. The optimizer state is
    restored when ``optimizer`` is given and the file has one.
    """
    path = Path(path)
    ckpt = read_checkpoint(path, mmap=False)
    if not isinstance(ckpt, Mapping) or "model" not in ckpt:
        raise invalid(path, "not an RVC training checkpoint (it has no 'model' entry)")
    check_entries(ckpt, lambda problem: invalid(path, problem), tensors=("model",), skip=("optimizer",))
    weights = tensor_dict(path, ckpt["model"], "model", limit=MAX_TRAINING_PARAMETERS)
    target = unwrap(model)
    expected = target.state_dict()
    missing = [k for k in expected if k not in weights]
    unexpected = [k for k in weights if k not in expected]
    mismatched = [k for k, v in expected.items() if k in weights and weights[k].shape != v.shape]
    if strict:
        check_weights(path, target, weights, f"this {type(target).__name__}")
        target.load_state_dict(weights, strict=True)
    else:
        merged = {k: (weights[k] if k in weights and k not in mismatched else v) for k, v in expected.items()}
        target.load_state_dict(merged, strict=True)
    if optimizer is not None and "optimizer" in ckpt:
        try:
            optimizer.load_state_dict(ckpt["optimizer"])
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise invalid(path, f"its optimizer state does not fit this model ({exc})") from None
    lr = ckpt.get("learning_rate")
    return TrainingCheckpoint(
        iteration=int(ckpt.get("iteration", 0) or 0),
        learning_rate=float(lr) if isinstance(lr, (int, float)) else None,
        missing=missing,
        mismatched=mismatched,
        unexpected=unexpected,
    )


# -- a training experiment's latest G/D pair and the pretrained base ------------------------------

LATEST = 2333333  # RVC's name for "save only the latest": G_2333333.pth / D_2333333.pth


@dataclass
class SavedPair:
    """The last G/D pair of an experiment, as read back (plain checkpoint dicts)."""

    g: dict[str, Any]
    d: dict[str, Any]

    @property
    def epoch(self) -> int:
        return int(self.g["iteration"])

    @property
    def global_step(self) -> int:
        return int((self.g.get(RECORD_KEY) or {}).get("global_step", 0))


def pair_paths(exp_dir: Path) -> tuple[Path, Path]:
    return Path(exp_dir) / f"G_{LATEST}.pth", Path(exp_dir) / f"D_{LATEST}.pth"


def save_pair(
    exp_dir: Path,
    net_g: nn.Module,
    net_d: nn.Module,
    optim_g: torch.optim.Optimizer,
    optim_d: torch.optim.Optimizer,
    *,
    epoch: int,
    global_step: int,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Save both nets in RVC's format (``"persona"``: global step, ``extra``); returns the G path.

    ``iteration`` is the number of *completed* epochs (RVC repeats that epoch on resume; Persona
    continues with the next). D is written before G, each atomically, so a crash mid-save leaves
    the previous pair readable.
    """
    info = {"global_step": int(global_step), **(extra or {})}
    g_path, d_path = pair_paths(exp_dir)
    for path, net, opt in ((d_path, net_d, optim_d), (g_path, net_g, optim_g)):
        save_training_checkpoint(net, opt, opt.param_groups[0]["lr"], epoch, path, extra=info)
    return g_path


def load_pair(exp_dir: Path) -> SavedPair | None:
    """The last saved pair, or None when there is none (``checkpoint_invalid`` when unreadable)."""
    g_path, d_path = pair_paths(exp_dir)
    if not (g_path.exists() and d_path.exists()):
        return None
    g, d = (_checked(p, read_checkpoint(p, code="checkpoint_invalid", mmap=False)) for p in (g_path, d_path))
    return SavedPair(g=g, d=d)


def load_last_generator(exp_dir: Path) -> tuple[int, dict[str, torch.Tensor]] | None:
    """The last save's epoch and generator weights (None when there is none): what a stopped
    training goes back to. Mapped, and its optimizer moments are never read, so a full-size
    model is back in a fraction of a second rather than the seconds ``load_pair`` takes."""
    g_path, _ = pair_paths(exp_dir)
    if not g_path.exists():
        return None
    ckpt = _checked(g_path, read_checkpoint(g_path, code="checkpoint_invalid"))
    return int(ckpt["iteration"]), ckpt["model"]


def _checked(path: Path, ckpt: Any) -> dict[str, Any]:
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("model"), dict) or "iteration" not in ckpt:
        raise PersonaError("checkpoint_invalid", f"{path.name}: not an RVC training checkpoint")
    check_entries(
        ckpt,
        lambda problem: invalid(path, problem, "checkpoint_invalid"),
        tensors=("model",),
        skip=("optimizer",),
    )
    return ckpt


def load_pretrained(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The ``model`` state dict of an RVC pretrained G/D file (``pretrained_v2/f0G40k.pth``), with
    Applio-era weight-norm names mapped onto RVC's."""
    path = Path(path)
    ckpt = read_checkpoint(path)
    state = ckpt.get("model", ckpt) if isinstance(ckpt, Mapping) else None
    if not isinstance(state, Mapping):
        raise invalid(path, "holds no model weights")
    return tensor_dict(path, state, "model", limit=MAX_TRAINING_PARAMETERS)
