"""Voice models: check an exported RVC/Applio model or a generator checkpoint, and load it.

Formats follow RVC (``infer/vc/modules.py: get_vc``):

- exported small model: ``{"weight": {name: fp16 tensor, no enc_q.*}, "config": [18 entries],
  "info": str, "sr": "40k", "f0": 0|1, "version": "v1"|"v2"}``; Applio adds metadata keys
  (``author``, ``epoch``, ``step``, ``model_name``, ``embedder_model``, ``vocoder``...) and may name
  weight-norm tensors ``parametrizations.weight.original0/1`` (mapped to ``weight_g/weight_v``);
- a generator training checkpoint ``G_*.pth`` (``model``, ``iteration``, ...): its config comes
  from RVC's ``config.json`` beside it or is inferred from the weight shapes.

``check_voice_model`` does everything but build the network: every non-tensor entry is bounded
plain data (``persona.rvc.plain_data``) before anything reads it, the weights are bounded in
number (``persona.rvc.pth.MAX_PARAMETERS``), the config in its entries and the network it
describes (built on the meta device) in its parameter count, then keys and shapes are compared
strictly and every weight must be finite. ``load_voice_model`` then builds the real network.

Differs from RVC in: weights are checked strictly against the config (missing, unexpected,
wrongly shaped or non-finite tensors give ``model_invalid`` naming them); a missing
``version``/``f0`` entry is taken from the weights instead of defaulting to v1.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from persona.errors import PersonaError
from persona.rvc.model_config import config_from_hparams, infer_config, validated_config
from persona.rvc.models import SR2SR, build_synthesizer
from persona.rvc.plain_data import check_entries, check_top
from persona.rvc.pth import MAX_PARAMETERS, invalid, plain_metadata, read_checkpoint, tensor_dict
from persona.rvc.record import KEY as RECORD_KEY
from persona.rvc.record import ModelRecord, read_record

__all__ = ["CheckedModel", "VoiceModel", "check_voice_model", "check_weights", "load_voice_model"]

_INT_SR = {v: k for k, v in SR2SR.items()}
_SUPPORTED_VOCODERS = ("HiFi-GAN",)
_NEEDED = ("enc_p.emb_phone.weight", "enc_p.proj.weight", "emb_g.weight", "dec.conv_pre.weight")


@dataclass
class VoiceModel:
    """A loaded voice model, ready for ``net_g.infer(...)``."""

    net_g: nn.Module  # eval mode, without enc_q
    tgt_sr: int
    f0: bool
    version: str  # "v1" | "v2"
    config: list[Any]
    info: str
    metadata: dict[str, Any] = field(default_factory=dict)
    n_speakers: int = 1
    record: ModelRecord = field(default_factory=ModelRecord)  # Persona's "persona" entry, if any

    @property
    def f0_unvoiced(self) -> str:
        """The f0 convention the model was trained with ("zero" unless Persona recorded otherwise)."""
        return self.record.f0_unvoiced


@dataclass
class CheckedModel:
    """A model file whose every entry passed the checks: what a network needs, not the network."""

    weights: dict[str, torch.Tensor]
    config: list[Any]
    version: str
    f0: bool
    info: str
    metadata: dict[str, Any]
    record: ModelRecord
    with_posterior: bool

    @property
    def tgt_sr(self) -> int:
        return int(self.config[17])

    @property
    def n_speakers(self) -> int:
        return int(self.config[15])


def check_weights(path: Path, net: nn.Module, weights: Mapping[str, torch.Tensor], what: str) -> None:
    """Strict key/shape comparison with a readable message."""
    expected = net.state_dict()
    missing = [k for k in expected if k not in weights]
    unexpected = [k for k in weights if k not in expected]
    wrong = [
        f"{k} {tuple(weights[k].shape)} vs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in weights and weights[k].shape != v.shape
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})")
    if wrong:
        problems.append(f"{len(wrong)} with the wrong shape (e.g. {'; '.join(wrong[:3])})")
    if problems:
        raise invalid(path, f"its weights do not match {what}: " + ", ".join(problems))


def _as_bool_f0(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, (bool, int)):
        return bool(value)
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return value.strip() == "1"
    return None


def _sr_hint(value: Any) -> int | None:
    if isinstance(value, str) and value in SR2SR:
        return SR2SR[value]
    if isinstance(value, int) and value in _INT_SR:
        return value
    return None


def _config_for(
    path: Path, ckpt: Mapping[str, Any], kind: str, weights: Mapping[str, torch.Tensor]
) -> list[Any]:
    if kind == "exported" and "config" in ckpt:
        return validated_config(path, ckpt["config"])
    if kind == "training_checkpoint":
        beside = path.parent / "config.json"
        if beside.is_file():
            try:
                return config_from_hparams(json.loads(beside.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError, TypeError):
                raise invalid(path, "the config.json beside it is not RVC's training configuration") from None
    try:
        return infer_config(weights, _sr_hint(ckpt.get("sr")))
    except (KeyError, IndexError, ValueError):
        raise invalid(
            path,
            "it has no configuration and it cannot be inferred from the weights (put RVC's config.json beside it)",
        ) from None


def _weights_of(path: Path, ckpt: Mapping[str, Any]) -> tuple[str, dict[str, torch.Tensor]]:
    if "weight" in ckpt:
        return "exported", tensor_dict(path, ckpt["weight"], "weight")
    return "training_checkpoint", tensor_dict(path, ckpt["model"], "model")


def check_voice_model(path: str | os.PathLike[str]) -> CheckedModel:
    """Read and check ``path`` completely without building its network (memory: the file's
    tensors, mapped, plus a little). Raises ``PersonaError("model_invalid")`` naming the problem."""
    path = Path(path)
    ckpt = read_checkpoint(path)

    def bad(problem: str) -> PersonaError:
        return invalid(path, problem)

    check_top(ckpt, bad)
    if "weight" not in ckpt and "model" not in ckpt:
        keys = ", ".join(sorted(ckpt)[:6]) or "none"
        raise bad(
            "not an RVC voice model: expected a 'weight' (exported model) or 'model' (training "
            f"checkpoint) entry, found: {keys}"
        )
    check_entries(ckpt, bad, tensors=("weight", "model"), skip=("optimizer",))
    kind, weights = _weights_of(path, ckpt)
    if any(k.startswith("discriminators.") for k in weights):
        raise invalid(
            path, "this is a discriminator checkpoint (D_*.pth), not a voice model; use the G_*.pth"
        )
    absent = [k for k in _NEEDED if k not in weights]
    if absent:
        raise invalid(path, f"not an RVC voice model: it has no {absent[0]} weight")

    phone_dim = int(weights["enc_p.emb_phone.weight"].shape[1])
    weights_version = {256: "v1", 768: "v2"}.get(phone_dim)
    if weights_version is None:
        raise invalid(
            path, f"its content-feature input is {phone_dim}-d; RVC models take 256 (v1) or 768 (v2)"
        )
    weights_f0 = "enc_p.emb_pitch.weight" in weights

    version = ckpt.get("version", weights_version) if kind == "exported" else weights_version
    if version not in ("v1", "v2"):
        raise invalid(path, f"unknown model version {version[:20]!r} (expected v1 or v2)")
    if version != weights_version:
        raise invalid(
            path, f"it says version {version} but its weights take {phone_dim}-d features ({weights_version})"
        )
    f0 = _as_bool_f0(ckpt.get("f0")) if kind == "exported" else None
    if f0 is None:
        f0 = weights_f0
    if f0 != weights_f0:
        has = "has" if weights_f0 else "has no"
        raise invalid(
            path, f"it says f0={int(f0)} but its weights {has} pitch embedding (f0={int(weights_f0)})"
        )
    vocoder = ckpt.get("vocoder")
    if isinstance(vocoder, str) and vocoder not in _SUPPORTED_VOCODERS:
        raise invalid(
            path, f"it uses the {vocoder[:40]} vocoder; only RVC's HiFi-GAN (NSF) models are supported"
        )

    config = _config_for(path, ckpt, kind, weights)
    config[15] = int(weights["emb_g.weight"].shape[0])  # RVC sizes the speaker table from the weights
    config = validated_config(path, config)

    with_posterior = any(k.startswith("enc_q.") for k in weights)
    try:  # on the meta device: shapes without memory, so the config cannot bloat us
        with torch.device("meta"):
            shapes = build_synthesizer(config, version, f0, with_posterior=with_posterior)
    except Exception as exc:  # noqa: BLE001 - an inconsistent config fails inside module constructors
        raise invalid(
            path, f"its config does not describe a buildable model ({type(exc).__name__})"
        ) from None
    if sum(p.numel() for p in shapes.parameters()) > MAX_PARAMETERS:
        raise invalid(path, "its config describes a network far larger than any RVC model")
    check_weights(path, shapes, weights, "the model its config describes")
    del shapes
    bad = [k for k, v in weights.items() if not torch.isfinite(v).all()]
    if bad:
        raise invalid(path, f"weight {bad[0]} contains NaN or infinite values (the model is corrupt)")

    if kind == "exported":
        record = read_record(ckpt, path.name)
        metadata = plain_metadata(ckpt, ("weight", "config", RECORD_KEY))
        info = str(ckpt.get("info", "") or "")
    else:
        record = ModelRecord()
        metadata = plain_metadata(ckpt, ("model", "optimizer"))
        info = f"{metadata['iteration']}epoch" if "iteration" in metadata else ""
    metadata["format"] = kind
    return CheckedModel(
        weights=weights,
        config=config,
        version=version,
        f0=bool(f0),
        info=info,
        metadata=metadata,
        record=record,
        with_posterior=with_posterior,
    )


def load_voice_model(
    path: str | os.PathLike[str], device: str | torch.device = "cpu", *, dtype: torch.dtype | None = None
) -> VoiceModel:
    """Load an exported RVC/Applio voice model or a generator training checkpoint (``G_*.pth``).

    ``dtype`` (default float32) is the dtype of ``net_g``; pass ``torch.float16`` on CUDA.
    Raises ``PersonaError("model_invalid", ...)`` naming the problem for anything unusable.
    """
    checked = check_voice_model(path)
    # The weights match: the real network is as large as the file's own tensors.
    net_g = build_synthesizer(
        checked.config, checked.version, checked.f0, with_posterior=checked.with_posterior
    )
    net_g.load_state_dict(checked.weights, strict=True)
    if checked.with_posterior:
        del net_g.enc_q  # training-only; exported models do not carry it either
    net_g = net_g.eval().to(device=device, dtype=dtype or torch.float32)
    return VoiceModel(
        net_g=net_g,
        tgt_sr=checked.tgt_sr,
        f0=checked.f0,
        version=checked.version,
        config=checked.config,
        info=checked.info,
        metadata=checked.metadata,
        n_speakers=checked.n_speakers,
        record=checked.record,
    )


def warm_up() -> None:
    """Run the checking machinery once on a tiny synthetic model (PyTorch loads its meta-device
    decompositions and unpickler lazily: ~1 s of CPU on first use). Called where many files will
    be checked by forked children (``persona.library.isolated``'s forkserver), so each child
    starts warm: a check then costs ~0.15 s of CPU instead of ~1.2 s."""
    import io

    from persona.rvc.models import UPSAMPLE_CONFIGS

    rates, kernels = UPSAMPLE_CONFIGS[("v2", "40k")]
    config = [1025, 32, 8, 16, 32, 2, 2, 3, 0, "1", [3, 7, 11], [[1, 3, 5]] * 3, list(rates), 64, list(kernels), 4, 8, 40000]  # fmt: skip
    with torch.device("meta"):
        shapes = build_synthesizer(config, "v2", True)
    weights = {k: torch.zeros(v.shape, dtype=torch.float16) for k, v in shapes.state_dict().items()}
    buffer = io.BytesIO()
    torch.save(
        {"weight": weights, "config": config, "info": "", "sr": "40k", "f0": 1, "version": "v2"}, buffer
    )
    buffer.seek(0)
    ckpt = torch.load(buffer, map_location="cpu", weights_only=True)
    check_entries(ckpt, lambda problem: PersonaError("model_invalid", problem), tensors=("weight",))
    check_weights(Path("warm-up"), shapes, tensor_dict(Path("warm-up"), ckpt["weight"], "weight"), "itself")
    all(bool(torch.isfinite(v).all()) for v in weights.values())
