"""Model merge ("model fusion"): blend two compatible library models by weight into a new one.

Follows Applio's ``model_blender``: every weight becomes ``w * A + (1 - w) * B`` (computed in
float32, stored as fp16 like any exported model), the config and metadata come from A, and a
speaker table of a different size is cut to the smaller one. Differs from Applio in what it
refuses: models of different versions, sample rates, pitch guidance, configs, content encoders or
f0 conventions do not blend (Applio only compares sample rates and key sets), so a merged model
always converts the way both of its parents did. The result has no retrieval index: the parents'
indexes hold their own training features, and neither describes the blend.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from persona.errors import PersonaError
from persona.library.models import ModelEntry, ModelLibrary
from persona.params import Number


def _refuse(message: str) -> PersonaError:
    return PersonaError("merge_incompatible", message)


# How much of model A the blend takes (the rest is B's): the API's range and default.
WEIGHT = Number(float, 0.0, 1.0, 0.5)


def check_weight(weight: Any) -> float:
    if not WEIGHT.holds(weight):
        raise PersonaError(
            "option_invalid", f"the merge weight must be {WEIGHT.range_text()}, got {weight!r}"
        )
    return float(weight)


def _describe(a: ModelEntry, b: ModelEntry, va: Any, vb: Any) -> None:
    """Refuse a pair that would not convert like both parents."""
    for what, x, y in (
        ("versions", va.version, vb.version),
        ("sample rates", va.tgt_sr, vb.tgt_sr),
        ("pitch guidance (f0) settings", va.f0, vb.f0),
    ):
        if x != y:
            raise _refuse(
                f"{a.name!r} and {b.name!r} have different {what} ({x} vs {y}); they cannot be merged"
            )
    if [c for i, c in enumerate(va.config) if i != 15] != [c for i, c in enumerate(vb.config) if i != 15]:
        raise _refuse(
            f"{a.name!r} and {b.name!r} are built differently (their configs differ); they cannot be merged"
        )
    from persona.rvc.embedders import of_model

    x, y = of_model(va.metadata, va.record.to_dict()), of_model(vb.metadata, vb.record.to_dict())
    if x != y:
        raise _refuse(
            f"{a.name!r} uses the {x} content encoder and {b.name!r} the {y}; they cannot be merged"
        )
    ua, ub = va.f0_unvoiced, vb.f0_unvoiced
    if ua != ub:
        raise _refuse(f"{a.name!r} and {b.name!r} were trained with different f0 conventions ({ua} vs {ub})")


def blend(wa: Mapping[str, Any], wb: Mapping[str, Any], weight: float) -> dict[str, Any]:
    """``weight * A + (1 - weight) * B`` for every tensor (speaker tables cut to the smaller one)."""
    if set(wa) != set(wb):
        odd = sorted(set(wa) ^ set(wb))[:3]
        raise _refuse(f"the models' layers differ ({', '.join(odd)}); they cannot be merged")
    out: dict[str, Any] = {}
    for key, ta in wa.items():
        tb = wb[key]
        if ta.shape != tb.shape:
            if key != "emb_g.weight":
                raise _refuse(
                    f"layer {key} has shape {tuple(ta.shape)} in one model and {tuple(tb.shape)} in the other"
                )
            n = min(ta.shape[0], tb.shape[0])
            ta, tb = ta[:n], tb[:n]
        out[key] = weight * ta.float() + (1 - weight) * tb.float()
    return out


def merge_models(library: ModelLibrary, name_a: str, name_b: str, weight: float, new_name: str) -> ModelEntry:
    """Blend library models A and B (``weight`` of A) into a new library model ``new_name``."""
    from persona.rvc.export import export_small_model
    from persona.rvc.pth import read_checkpoint
    from persona.rvc.voice_model import load_voice_model

    weight = check_weight(weight)
    new_name = library.check_new_name(new_name)
    a, b = library.get(name_a), library.get(name_b)
    if a.name == b.name:
        raise _refuse("choose two different models to merge")
    va, vb = load_voice_model(a.pth_path), load_voice_model(b.pth_path)
    _describe(a, b, va, vb)
    weights = blend(_weights(a.pth_path, read_checkpoint), _weights(b.pth_path, read_checkpoint), weight)
    config = list(va.config)
    config[15] = int(weights["emb_g.weight"].shape[0])
    extra = {k: v for k, v in va.metadata.items() if k not in ("format", "info", "sr", "f0", "version")}
    extra["merged_from"] = {"a": a.name, "b": b.name, "weight": weight}
    record = va.record.to_dict() if va.record.present else None  # the parents agree on it
    info = f"merge of {a.name} ({weight:g}) and {b.name} ({1 - weight:g})"
    with tempfile.TemporaryDirectory(dir=library.root, prefix=".tmp-merge-") as tmp:
        pth = Path(tmp) / "model.pth"
        export_small_model(
            weights,
            config=config,
            sr=va.tgt_sr,
            f0=va.f0,
            version=va.version,
            info=info,
            path=pth,
            extra=extra,
            record=record,
        )
        return library.add(
            new_name, pth, None, source="merged", move=True,
            metadata={"merged_from": extra["merged_from"], "info": info},
        )  # fmt: skip


def _weights(path: Path, read: Any) -> dict[str, Any]:
    from persona.rvc.nn.weightnorm import canonical_weight_names

    ckpt = read(path)
    raw = ckpt.get("weight") if "weight" in ckpt else ckpt.get("model")
    return {k: v for k, v in canonical_weight_names(dict(raw)).items() if "enc_q" not in k}
