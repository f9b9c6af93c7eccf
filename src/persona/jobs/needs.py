"""What a job of each kind, with these options, needs from the assets folder: the one answer.

The page's weights banner, the API's refusal of a job that cannot run (``assets_needed``), the
download job's default set and ``persona serve``'s first-start notice all ask here, so they
cannot disagree. A requirement is a group of asset names of which one must be present (HuBERT as
RVC's transformers folder or the older fairseq file); the first name is the one to download.

Follows the engines' own lookups: content features (``rvc/content.py``: ``hubert_base`` then
``hubert_base.pt``), pitch (``rvc/f0``: RMVPE from ``rmvpe.pt``; FCPE from torchfcpe's wheel,
else ``fcpe.pt``; CREPE, harvest and pm need no asset), training's pretrained v2 base per rate
(``training/trainer.py``), separation per ``separation.models.resolve_model_name``. Light: no
torch, so the web process can ask.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from persona.jobs.kinds import KINDS, load
from persona.settings import Settings

CONTENT = ("hubert_base", "hubert_base.pt")
# The kinds that need weights (the banner's "what a default job of each kind lacks").
NEEDY_KINDS = tuple(name for name, kind in KINDS.items() if kind.needs)


def guess_device(settings: Settings) -> str:
    """The device a job will run on, without importing torch (the NVIDIA driver's proc entry)."""
    if settings.device != "auto":
        return settings.device
    return "cuda" if Path("/proc/driver/nvidia/version").exists() else "cpu"


def _f0_needs(method: str) -> list[tuple[str, ...]]:
    if method == "rmvpe":
        return [("rmvpe.pt",)]
    if method == "fcpe" and importlib.util.find_spec("torchfcpe") is None:
        return [("fcpe.pt",)]
    return []


def requirements(
    settings: Settings, kind: str, params: Mapping[str, Any] | None = None, present=None
) -> list[tuple[str, ...]]:
    """Groups of asset names a ``kind`` job with job ``params`` needs (one of each group).

    ``params`` are the job's params as the server stores them (training: ``sample_rate``,
    ``f0_method``; cover: ``options``); unset ones take the request types' defaults.
    ``present(name)`` tells which separation models are installed (``auto`` picks among them).
    Which function answers for a kind is the kind's ``needs`` (``persona.jobs.kinds``).
    """
    spec = KINDS.get(kind)
    if spec is None or spec.needs is None:
        return []
    return load(spec.needs)(settings, dict(params or {}), present)


def train_requirements(settings: Settings, params: dict[str, Any], present) -> list[tuple[str, ...]]:
    from persona.training.request import TrainRequest

    rate = params.get("sample_rate") or TrainRequest.__dataclass_fields__["sample_rate"].default
    f0 = params.get("f0_method") or TrainRequest.__dataclass_fields__["f0_method"].default
    base = [(f"pretrained_v2/f0G{rate}.pth",), (f"pretrained_v2/f0D{rate}.pth",)]
    return [CONTENT, *_f0_needs(f0), *base]


def cover_requirements(settings: Settings, params: dict[str, Any], present) -> list[tuple[str, ...]]:
    from persona.cover.request import CoverRequest
    from persona.rvc.options import ConversionOptions
    from persona.separation.models import DEREVERB_MODEL, KARAOKE_MODEL, get_model, resolve_model_name

    options = dict(params.get("options") or {})
    f0 = options.get("f0_method") or ConversionOptions.__dataclass_fields__["f0_method"].default
    choice = options.get("separation_model") or CoverRequest.__dataclass_fields__["separation_model"].default

    def installed(name: str) -> bool:
        return present is not None and all(present(asset) for asset in get_model(name).assets)

    models = [resolve_model_name(choice, guess_device(settings), installed)]
    if options.get("lead_backing"):
        models.append(KARAOKE_MODEL)
    if options.get("dereverb"):
        models.append(DEREVERB_MODEL)
    separation = [(asset,) for m in models for asset in get_model(m).assets]
    return [CONTENT, *_f0_needs(f0), *separation]


def missing(
    settings: Settings, kind: str, params: Mapping[str, Any] | None = None, manager=None
) -> list[str]:
    """Names to download so that a ``kind`` job with ``params`` can run ([] when it can)."""
    from persona.assets import AssetManager

    manager = manager or AssetManager(settings)
    present = _presence(manager)
    out: list[str] = []
    for group in requirements(settings, kind, params, present):
        if not any(present(name) for name in group) and group[0] not in out:
            out.append(group[0])
    return out


def missing_for_defaults(settings: Settings, manager=None) -> dict[str, list[str]]:
    """What a training and a cover with default options each lack (the banner's answer)."""
    from persona.assets import AssetManager

    manager = manager or AssetManager(settings)
    return {kind: missing(settings, kind, None, manager) for kind in NEEDY_KINDS}


def _presence(manager):
    """Present as the engines see it (``AssetManager.usable``), so a job the banner calls
    possible does run, and one it calls impossible would fail."""
    cache: dict[str, bool] = {}

    def present(name: str) -> bool:
        if name not in cache:
            cache[name] = manager.usable(name)
        return cache[name]

    return present
