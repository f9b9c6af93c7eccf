"""RVC model files, the one owner of every ``.pth`` Persona reads or writes: load voice models
safely, export small models, save/load training checkpoints (an experiment's G/D pair, the
pretrained base). ``read_checkpoint`` is the single ``torch.load`` (``weights_only=True``) with one
error wording; everything here reads through it.

Formats follow RVC (``infer/vc/modules.py: get_vc``, ``train/process_ckpt.py: savee`` /
``extract_small_model``, ``train/utils.py: save_checkpoint`` / ``load_checkpoint``):

- exported small model: ``{"weight": {name: fp16 tensor, no enc_q.*}, "config": [18 entries],
  "info": str, "sr": "40k", "f0": 0|1, "version": "v1"|"v2"}``; Applio adds metadata keys
  (``author``, ``epoch``, ``step``, ``model_name``, ``embedder_model``, ``vocoder``...) and may name
  weight-norm tensors ``parametrizations.weight.original0/1`` (mapped to ``weight_g/weight_v``);
- training checkpoint ``G_*.pth`` / ``D_*.pth``: ``{"model": state_dict, "iteration": epoch,
  "optimizer": optimizer state, "learning_rate": float}`` (pretrained files may hold only
  ``model``). A generator's config comes from RVC's ``config.json`` beside it or is inferred from
  the weight shapes.

Differs from RVC in: files are read with ``torch.load(..., weights_only=True)`` only (a file that
carries pickled code is refused, nothing in it runs); weights are checked strictly against the
config (missing, unexpected, wrongly shaped or non-finite tensors give ``model_invalid`` naming
them); a missing ``version``/``f0`` entry is taken from the weights instead of defaulting to v1;
files are written atomically.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from persona.errors import PersonaError
from persona.fsutil import atomic_path
from persona.rvc.models import SR2SR, UPSAMPLE_CONFIGS, build_synthesizer
from persona.rvc.nn.weightnorm import canonical_weight_names
from persona.rvc.record import KEY as RECORD_KEY
from persona.rvc.record import ModelRecord, checked_record, read_record

__all__ = [
    "LATEST",
    "SavedPair",
    "TrainingCheckpoint",
    "VoiceModel",
    "config_from_hparams",
    "export_small_model",
    "infer_config",
    "load_training_checkpoint",
    "load_pair",
    "load_pretrained",
    "load_voice_model",
    "pair_paths",
    "read_checkpoint",
    "save_pair",
    "save_training_checkpoint",
]

_INT_SR = {v: k for k, v in SR2SR.items()}
_SUPPORTED_VOCODERS = ("HiFi-GAN",)


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
class TrainingCheckpoint:
    """What ``load_training_checkpoint`` restored."""

    iteration: int
    learning_rate: float | None
    missing: list[str] = field(default_factory=list)  # kept the model's own values (strict=False)
    mismatched: list[str] = field(default_factory=list)  # kept the model's own values (strict=False)
    unexpected: list[str] = field(default_factory=list)  # ignored (strict=False)


def _invalid(path: Path | str, problem: str) -> PersonaError:
    return PersonaError("model_invalid", f"{Path(path).name}: {problem}")


# -- reading ------------------------------------------------------------------------------------


def read_checkpoint(path: str | os.PathLike[str], *, code: str = "model_invalid") -> Any:
    """The one ``torch.load`` of a ``.pth`` in Persona: ``weights_only=True`` on the CPU.

    Every failure is one ``PersonaError(code)`` naming the file and the problem, in one wording
    (``code`` says what the file was meant to be: ``model_invalid``, ``checkpoint_invalid``).
    """
    path = Path(path)

    def bad(problem: str) -> PersonaError:
        return PersonaError(code, f"{path.name}: {problem}")

    if not path.is_file():
        raise bad("no such file")
    if path.stat().st_size == 0:
        raise bad("the file is empty")
    _check_archive(path, bad)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if "GLOBAL" in text or "global" in text or "blocked" in text:
            raise bad(
                "the file contains pickled Python objects other than plain weights (such as code); "
                "it was refused for safety and nothing in it was run",
            ) from None
        raise bad("not a PyTorch model file, or it is truncated or corrupt") from None
    except Exception:  # noqa: BLE001 - torch raises many types for malformed files
        if zipfile.is_zipfile(path):
            try:
                with zipfile.ZipFile(path) as zf:
                    names = zf.namelist()
            except (zipfile.BadZipFile, OSError):
                names = []
            if not any(n.endswith("data.pkl") for n in names):
                raise bad("a zip archive, not a PyTorch model file (.pth)") from None
        raise bad("not a PyTorch model file, or it is truncated or corrupt") from None


def _check_archive(path: Path, bad) -> None:
    """torch writes its zip format uncompressed: a compressed member (a zip bomb inflating to more
    than the file holds) is refused before torch reads it. ``bad(problem)`` makes the error."""
    if not zipfile.is_zipfile(path):
        return  # torch's legacy format: storages are read from the file itself
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise bad("not a PyTorch model file, or it is truncated or corrupt") from None
    size = path.stat().st_size
    total = 0
    for info in infos:
        total += info.file_size
        if info.compress_type != zipfile.ZIP_STORED or info.file_size != info.compress_size:
            raise bad("it holds compressed data, which PyTorch never writes; it was refused")
    if total > size:
        raise bad("its archive declares more data than the file holds")


def _tensor_dict(path: Path, obj: Any, entry: str) -> dict[str, torch.Tensor]:
    if not isinstance(obj, Mapping) or not obj:
        raise _invalid(path, f"its '{entry}' entry is not a dictionary of weights")
    out: dict[str, torch.Tensor] = {}
    for key, value in obj.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise _invalid(path, f"its '{entry}' entry holds something other than named tensors ({key!r})")
        if not value.is_floating_point():
            raise _invalid(path, f"weight {key} is not a floating-point tensor ({value.dtype})")
        out[key] = value
    if all(k.startswith("module.") for k in out):  # saved from a DistributedDataParallel wrapper
        out = {k[len("module.") :]: v for k, v in out.items()}
    return canonical_weight_names(out)


# -- configs ------------------------------------------------------------------------------------


def config_from_hparams(hps: Mapping[str, Any]) -> list[Any]:
    """RVC's 18-entry config list from an experiment ``config.json`` (as ``savee`` builds it)."""
    data, model = hps["data"], hps["model"]
    sr = data.get("sampling_rate", data.get("sample_rate"))
    return [
        int(data["filter_length"]) // 2 + 1, 32, model["inter_channels"], model["hidden_channels"],
        model["filter_channels"], model["n_heads"], model["n_layers"], model["kernel_size"],
        model["p_dropout"], str(model["resblock"]), list(model["resblock_kernel_sizes"]),
        [list(d) for d in model["resblock_dilation_sizes"]], list(model["upsample_rates"]),
        model["upsample_initial_channel"], list(model["upsample_kernel_sizes"]),
        model["spk_embed_dim"], model["gin_channels"], int(sr),
    ]  # fmt: skip


def _count(weights: Mapping[str, torch.Tensor], prefix: str) -> int:
    ids = {k[len(prefix) :].split(".", 1)[0] for k in weights if k.startswith(prefix)}
    return len({i for i in ids if i.isdigit()})


def infer_config(weights: Mapping[str, torch.Tensor], sr: int | None = None) -> list[Any]:
    """Reconstruct the config list from generator weights (for ``G_*.pth`` without config.json).

    Sizes come from tensor shapes; upsample rates (not stored in any tensor) from the matching
    standard RVC configuration, checked against the NSF noise-conv strides and, if given, ``sr``.
    Raises ``ValueError`` when the weights are not enough to tell.
    """
    w = weights
    hidden, phone_dim = w["enc_p.emb_phone.weight"].shape
    inter = w["enc_p.proj.weight"].shape[0] // 2
    ffn = w["enc_p.encoder.ffn_layers.0.conv_1.weight"]
    n_heads = hidden // w["enc_p.encoder.attn_layers.0.emb_rel_k"].shape[-1]
    n_layers = _count(w, "enc_p.encoder.attn_layers.")
    n_ups = _count(w, "dec.ups.")
    up_kernels = [int(w[f"dec.ups.{i}.weight_v"].shape[-1]) for i in range(n_ups)]
    n_kernels = _count(w, "dec.resblocks.") // max(n_ups, 1)
    resblock = "1" if "dec.resblocks.0.convs1.0.weight_v" in w else "2"
    conv = "convs1.0" if resblock == "1" else "convs.0"
    rb_kernels = [int(w[f"dec.resblocks.{j}.{conv}.weight_v"].shape[-1]) for j in range(n_kernels)]
    dilations = [[1, 3, 5] if resblock == "1" else [1, 3] for _ in range(n_kernels)]
    n_spk, gin = w["emb_g.weight"].shape
    spec = int(w["enc_q.pre.weight"].shape[1]) if "enc_q.pre.weight" in w else None
    version = "v2" if phone_dim == 768 else "v1"

    # Strides are not stored; noise_convs (f0 models) give prod(rates[i+1:]) = kernel // 2.
    strides = None
    if "dec.noise_convs.0.weight" in w:
        strides = [int(w[f"dec.noise_convs.{i}.weight"].shape[-1]) // 2 for i in range(n_ups - 1)]
    candidates = []
    for (ver, name), (rates, kernels) in UPSAMPLE_CONFIGS.items():
        if kernels != up_kernels or (sr is not None and SR2SR[name] != sr):
            continue
        if strides is not None and strides != [math.prod(rates[i + 1 :]) for i in range(n_ups - 1)]:
            continue
        if spec is not None and spec != (513 if name == "32k" else 1025):
            continue
        candidates.append((ver == version, name, rates))
    rates_found = {tuple(r) for _, _, r in candidates}
    if len(rates_found) != 1:
        raise ValueError("cannot tell the sample rate and upsampling from the weights")
    candidates.sort(reverse=True)  # prefer the entry of the weights' own version
    _, name, rates = candidates[0]
    if spec is None:
        spec = 513 if name == "32k" else 1025
    return [
        spec, 32, inter, int(hidden), int(ffn.shape[0]), int(n_heads), n_layers, int(ffn.shape[-1]), 0,
        resblock, rb_kernels, dilations, list(rates), int(w["dec.conv_pre.weight"].shape[0]),
        up_kernels, int(n_spk), int(gin), SR2SR[name],
    ]  # fmt: skip


CONFIG_NAMES = (
    "spec_channels", "segment_size", "inter_channels", "hidden_channels", "filter_channels",
    "n_heads", "n_layers", "kernel_size", "p_dropout", "resblock", "resblock_kernel_sizes",
    "resblock_dilation_sizes", "upsample_rates", "upsample_initial_channel",
    "upsample_kernel_sizes", "spk_embed_dim", "gin_channels", "sr",
)  # fmt: skip
# Sane upper bounds for an untrusted config (RVC's own: 1025, 192, 192, 768, 2, 6, 3, 512, 109, 256;
# a few times that is allowed). The weights must match the config anyway; this stops a hostile
# config from describing a network bigger than memory before the comparison.
CONFIG_MAXIMA = {
    0: 4097, 2: 1024, 3: 1024, 4: 8192, 5: 32, 6: 32, 7: 31, 13: 2048, 15: 100_000, 16: 2048,
}  # fmt: skip


def _validated_config(path: Path, config: Any) -> list[Any]:
    if not isinstance(config, (list, tuple)) or len(config) != 18:
        raise _invalid(path, "its 'config' entry is not RVC's 18-entry configuration list")
    config = list(config)
    if isinstance(config[17], str) and config[17] in SR2SR:  # "40k" where RVC expects 40000
        config[17] = SR2SR[config[17]]
    try:
        ints = [int(config[i]) for i in (0, 2, 3, 4, 5, 6, 7, 13, 15, 16, 17)]
        rates = [int(r) for r in config[12]]
        kernels = [int(k) for k in config[14]]
        rb_kernels = [int(k) for k in config[10]]
        dilations = [[int(d) for d in ds] for ds in config[11]]
        float(config[8])
    except (TypeError, ValueError):
        raise _invalid(path, "its 'config' entry has entries of the wrong type") from None
    if min(ints) <= 0 or not rates or min(rates) <= 0 or len(rates) != len(kernels):
        raise _invalid(path, "its 'config' entry has impossible sizes")
    if len(rb_kernels) != len(dilations) or int(config[3]) % int(config[5]) != 0:
        raise _invalid(path, "its 'config' entry has impossible sizes")
    too_big = [
        f"{CONFIG_NAMES[i]}={config[i]} (at most {top})"
        for i, top in CONFIG_MAXIMA.items()
        if not isinstance(config[i], (list, tuple)) and int(config[i]) > top
    ]
    lists = (len(rates) > 8, max(kernels) > 64, len(rb_kernels) > 8, max(rb_kernels, default=0) > 31)
    if too_big or any(lists) or any(len(ds) > 8 or max(ds, default=0) > 64 for ds in dilations):
        shown = ", ".join(too_big[:3]) or "its upsampling or residual-block lists are too long"
        raise _invalid(path, f"its 'config' entry has sizes far beyond any RVC model: {shown}")
    sr, hop = int(config[17]), math.prod(rates)
    if hop * 100 != sr:
        raise _invalid(
            path,
            f"its config upsamples by {hop} but its sample rate is {sr} Hz (RVC needs {sr // 100}, "
            "i.e. 100 frames per second)",
        )
    config[9] = str(config[9])
    return config


# -- loading voice models -------------------------------------------------------------------------


def _as_bool_f0(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, (bool, int)):
        return bool(value)
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return value.strip() == "1"
    return None


def _check_weights(path: Path, net: nn.Module, weights: Mapping[str, torch.Tensor], what: str) -> None:
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
        raise _invalid(path, f"its weights do not match {what}: " + ", ".join(problems))


def _plain_metadata(ckpt: Mapping[str, Any], skip: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in ckpt.items():
        if key in skip or not isinstance(key, str):
            continue
        if value is None or isinstance(value, (str, int, float, bool, list, tuple, dict)):
            out[key] = value
    return out


def load_voice_model(
    path: str | os.PathLike[str], device: str | torch.device = "cpu", *, dtype: torch.dtype | None = None
) -> VoiceModel:
    """Load an exported RVC/Applio voice model or a generator training checkpoint (``G_*.pth``).

    ``dtype`` (default float32) is the dtype of ``net_g``; pass ``torch.float16`` on CUDA.
    Raises ``PersonaError("model_invalid", ...)`` naming the problem for anything unusable.
    """
    path = Path(path)
    ckpt = read_checkpoint(path)
    if not isinstance(ckpt, Mapping):
        raise _invalid(path, f"not an RVC voice model (the file holds a {type(ckpt).__name__})")

    if "weight" in ckpt:
        kind = "exported"
        weights = _tensor_dict(path, ckpt["weight"], "weight")
    elif "model" in ckpt:
        kind = "training_checkpoint"
        weights = _tensor_dict(path, ckpt["model"], "model")
    else:
        keys = ", ".join(sorted(str(k) for k in ckpt)[:6]) or "none"
        raise _invalid(
            path,
            f"not an RVC voice model: expected a 'weight' (exported model) or 'model' (training "
            f"checkpoint) entry, found: {keys}",
        )
    if any(k.startswith("discriminators.") for k in weights):
        raise _invalid(
            path, "this is a discriminator checkpoint (D_*.pth), not a voice model; use the G_*.pth"
        )
    needed = ("enc_p.emb_phone.weight", "enc_p.proj.weight", "emb_g.weight", "dec.conv_pre.weight")
    absent = [k for k in needed if k not in weights]
    if absent:
        raise _invalid(path, f"not an RVC voice model: it has no {absent[0]} weight")

    phone_dim = int(weights["enc_p.emb_phone.weight"].shape[1])
    weights_version = {256: "v1", 768: "v2"}.get(phone_dim)
    if weights_version is None:
        raise _invalid(
            path, f"its content-feature input is {phone_dim}-d; RVC models take 256 (v1) or 768 (v2)"
        )
    weights_f0 = "enc_p.emb_pitch.weight" in weights

    version = ckpt.get("version", weights_version) if kind == "exported" else weights_version
    if version not in ("v1", "v2"):
        raise _invalid(path, f"unknown model version {version!r} (expected v1 or v2)")
    if version != weights_version:
        raise _invalid(
            path,
            f"it says version {version} but its weights take {phone_dim}-d features ({weights_version})",
        )
    f0 = _as_bool_f0(ckpt.get("f0")) if kind == "exported" else None
    if f0 is None:
        f0 = weights_f0
    if f0 != weights_f0:
        has = "has" if weights_f0 else "has no"
        raise _invalid(
            path, f"it says f0={int(f0)} but its weights {has} pitch embedding (f0={int(weights_f0)})"
        )
    vocoder = ckpt.get("vocoder")
    if isinstance(vocoder, str) and vocoder not in _SUPPORTED_VOCODERS:
        raise _invalid(path, f"it uses the {vocoder} vocoder; only RVC's HiFi-GAN (NSF) models are supported")

    config = _config_for(path, ckpt, kind, weights)
    config[15] = int(weights["emb_g.weight"].shape[0])  # RVC sizes the speaker table from the weights
    config = _validated_config(path, config)

    with_posterior = any(k.startswith("enc_q.") for k in weights)
    try:  # on the meta device first: shapes without memory, so the config cannot bloat us
        with torch.device("meta"):
            shapes = build_synthesizer(config, version, f0, with_posterior=with_posterior)
    except Exception as exc:  # noqa: BLE001 - an inconsistent config fails inside module constructors
        raise _invalid(path, f"its config does not describe a buildable model ({exc})") from None
    _check_weights(path, shapes, weights, "the model its config describes")
    del shapes
    # The weights match: the real network is as large as the file's own tensors.
    net_g = build_synthesizer(config, version, f0, with_posterior=with_posterior)
    bad = [k for k, v in weights.items() if not torch.isfinite(v).all()]
    if bad:
        raise _invalid(path, f"weight {bad[0]} contains NaN or infinite values (the model is corrupt)")
    net_g.load_state_dict(weights, strict=True)
    if with_posterior:
        del net_g.enc_q  # training-only; exported models do not carry it either
    net_g = net_g.eval().to(device=device, dtype=dtype or torch.float32)

    record = read_record(ckpt, path.name) if kind == "exported" else ModelRecord()
    if kind == "exported":
        metadata = _plain_metadata(ckpt, ("weight", "config", RECORD_KEY))
        info = str(ckpt.get("info", "") or "")
    else:
        metadata = _plain_metadata(ckpt, ("model", "optimizer"))
        info = f"{metadata['iteration']}epoch" if "iteration" in metadata else ""
    metadata["format"] = kind
    return VoiceModel(
        net_g=net_g,
        tgt_sr=int(config[17]),
        f0=bool(f0),
        version=version,
        config=config,
        info=info,
        metadata=metadata,
        n_speakers=int(config[15]),
        record=record,
    )


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
        return _validated_config(path, ckpt["config"])
    if kind == "training_checkpoint":
        beside = path.parent / "config.json"
        if beside.is_file():
            try:
                return config_from_hparams(json.loads(beside.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError, TypeError):
                raise _invalid(
                    path, "the config.json beside it is not RVC's training configuration"
                ) from None
    try:
        return infer_config(weights, _sr_hint(ckpt.get("sr")))
    except (KeyError, IndexError, ValueError):
        raise _invalid(
            path,
            "it has no configuration and it cannot be inferred from the weights (put RVC's config.json beside it)",
        ) from None


# -- writing ----------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Config entries as plain Python (torch.load(weights_only=True) refuses numpy scalars)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float) or hasattr(value, "dtype") and "float" in str(value.dtype):
        return float(value)
    return int(value)


def _unwrap(model: nn.Module) -> nn.Module:
    model = getattr(model, "module", model)  # DistributedDataParallel
    return getattr(model, "_orig_mod", model)  # torch.compile


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
        state: Mapping[str, torch.Tensor] = _unwrap(state_dict_or_net_g).state_dict()
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
    ckpt: dict[str, Any] = {"model": _unwrap(model).state_dict(), "iteration": int(iteration)}
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
    ckpt = read_checkpoint(path)
    if not isinstance(ckpt, Mapping) or "model" not in ckpt:
        raise _invalid(path, "not an RVC training checkpoint (it has no 'model' entry)")
    weights = _tensor_dict(path, ckpt["model"], "model")
    target = _unwrap(model)
    expected = target.state_dict()
    missing = [k for k in expected if k not in weights]
    unexpected = [k for k in weights if k not in expected]
    mismatched = [k for k, v in expected.items() if k in weights and weights[k].shape != v.shape]
    if strict:
        _check_weights(path, target, weights, f"this {type(target).__name__}")
        target.load_state_dict(weights, strict=True)
    else:
        merged = {k: (weights[k] if k in weights and k not in mismatched else v) for k, v in expected.items()}
        target.load_state_dict(merged, strict=True)
    if optimizer is not None and "optimizer" in ckpt:
        try:
            optimizer.load_state_dict(ckpt["optimizer"])
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise _invalid(path, f"its optimizer state does not fit this model ({exc})") from None
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
    g, d = (read_checkpoint(p, code="checkpoint_invalid") for p in (g_path, d_path))
    for path, ckpt in ((g_path, g), (d_path, d)):
        if not isinstance(ckpt, dict) or not isinstance(ckpt.get("model"), dict) or "iteration" not in ckpt:
            raise PersonaError("checkpoint_invalid", f"{path.name}: not an RVC training checkpoint")
    return SavedPair(g=g, d=d)


def load_pretrained(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The ``model`` state dict of an RVC pretrained G/D file (``pretrained_v2/f0G40k.pth``), with
    Applio-era weight-norm names mapped onto RVC's."""
    path = Path(path)
    ckpt = read_checkpoint(path)
    state = ckpt.get("model", ckpt) if isinstance(ckpt, Mapping) else None
    if not isinstance(state, Mapping):
        raise _invalid(path, "holds no model weights")
    return _tensor_dict(path, state, "model")
