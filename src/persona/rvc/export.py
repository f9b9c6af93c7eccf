"""Exporting a voice model in RVC's small-model format (``train/process_ckpt.py: savee``):
``{"weight": fp16 tensors without enc_q.*, "config", "info", "sr", "f0", "version"}``, plus
Applio-style metadata keys and Persona's ``persona`` record, written atomically."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from persona.fsutil import atomic_path
from persona.rvc.models import SR2SR
from persona.rvc.nn.weightnorm import canonical_weight_names
from persona.rvc.pth import unwrap
from persona.rvc.record import KEY as RECORD_KEY
from persona.rvc.record import checked_record

__all__ = ["export_small_model"]

_INT_SR = {v: k for k, v in SR2SR.items()}


def _plain(value: Any) -> Any:
    """Config entries as plain Python (torch.load(weights_only=True) refuses numpy scalars)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float) or hasattr(value, "dtype") and "float" in str(value.dtype):
        return float(value)
    return int(value)


def export_small_model(
    state_dict_or_net_g: nn.Module | Mapping[str, torch.Tensor],
    *,
    config: list[Any],
    sr: str | int,
    f0: bool,
    version: str,
    info: str,
    path: str | os.PathLike[str],
    extra: Mapping[str, Any] | None = None,
    record: Mapping[str, Any] | None = None,
) -> Path:
    """Write RVC's exported model format (fp16 weights without ``enc_q.*``), atomically.

    ``sr`` is RVC's rate name ("40k"; an int such as 40000 is converted); ``extra`` adds metadata
    keys after RVC's own (Applio-style: ``author``, ``epoch``, ``model_name``...); ``record`` is
    Persona's ``persona`` entry (``persona.rvc.record.make_record``), checked before writing.
    """
    if isinstance(state_dict_or_net_g, nn.Module):
        state: Mapping[str, torch.Tensor] = unwrap(state_dict_or_net_g).state_dict()
    else:
        state = state_dict_or_net_g
    if version not in ("v1", "v2"):
        raise ValueError(f"version must be 'v1' or 'v2', got {version!r}")
    sr_name = _INT_SR.get(sr, sr) if isinstance(sr, int) else sr
    if sr_name not in SR2SR:
        raise ValueError(f"sr must be one of {sorted(SR2SR)}, got {sr!r}")
    if not isinstance(config, (list, tuple)) or len(config) != 18:
        raise ValueError("config must be RVC's 18-entry configuration list")
    weights = OrderedDict(
        (k, v.detach().to("cpu", torch.float16).contiguous())
        for k, v in canonical_weight_names(state).items()
        if "enc_q" not in k
    )
    opt: OrderedDict[str, Any] = OrderedDict()
    opt["weight"] = weights
    opt["config"] = _plain(list(config))
    opt["info"] = str(info)
    opt["sr"] = sr_name
    opt["f0"] = int(bool(f0))
    opt["version"] = version
    for key, value in (extra or {}).items():
        if key not in ("weight", "config", RECORD_KEY):
            opt[key] = value
    if record is not None:
        opt[RECORD_KEY] = checked_record(record)
    with atomic_path(path) as tmp:
        torch.save(opt, tmp)
    return Path(path)
