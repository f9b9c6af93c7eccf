"""Content features: HuBERT / ContentVec through ``transformers`` (no fairseq).

Follows RVC's ``infer/hubert.py`` (``HubertModelWithFinalProj``, ``extract_hubert_features``) and
``infer/vc/pipeline.py`` (``vc``): the raw 16 kHz waveform goes in un-normalised (RVC's inference
path never applies the feature extractor's normalisation), its all-False padding mask becomes
``attention_mask=None``; v1 = ``final_proj(hidden_states[9])`` (256-d), v2 = the last (12th)
layer's output (768-d). fp16 on CUDA, as RVC runs it there.

Two on-disk formats load:
* the transformers folder current RVC/Applio ship (``config.json`` + ``pytorch_model.bin`` or
  ``model.safetensors``, with ``final_proj``);
* the older fairseq ``hubert_base.pt`` (``{"cfg"/"args", "model": state_dict}``), whose keys are
  renamed onto transformers' names. It is read with ``torch.load(weights_only=True)``; when its
  config holds classes that loader refuses (``argparse.Namespace``, omegaconf objects), a
  restricted unpickler rebuilds tensors and containers and turns every other class into an inert
  placeholder, so no code from the file ever runs.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from transformers import HubertConfig, HubertModel

from persona.errors import PersonaError

if TYPE_CHECKING:
    from persona.assets import AssetManager

V1_LAYER = 9


class HubertModelWithFinalProj(HubertModel):
    """transformers' HubertModel plus the ``final_proj`` linear RVC v1 uses (as RVC defines it)."""

    def __init__(self, config: HubertConfig) -> None:
        super().__init__(config)
        self.final_proj = nn.Linear(config.hidden_size, config.classifier_proj_size)


def _invalid(path: Path, why: str) -> PersonaError:
    return PersonaError("asset_invalid", f"{path} is not a usable HuBERT/ContentVec model: {why}")


# ---------------------------------------------------------------- transformers folder


def _load_folder(path: Path) -> HubertModelWithFinalProj:
    if not (path / "config.json").is_file():
        raise _invalid(path, "config.json is missing")
    if not any((path / n).is_file() for n in ("pytorch_model.bin", "model.safetensors")):
        raise _invalid(path, "neither pytorch_model.bin nor model.safetensors is present")
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # Persona reports progress itself
    try:
        model, info = HubertModelWithFinalProj.from_pretrained(
            str(path), local_files_only=True, output_loading_info=True, dtype=torch.float32
        )
    except Exception as exc:  # corrupt json/weights, pickled code in a .bin (weights_only refuses)
        raise _invalid(path, f"{type(exc).__name__}: {exc}".splitlines()[0][:300]) from exc
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    # masked_spec_embed is only used in training; everything the forward pass needs must be there.
    # Some encoders (e.g. Korean HuBERT) ship without final_proj: fine for v2, which never uses it.
    missing = [k for k in info.get("missing_keys", []) if k != "masked_spec_embed"]
    no_proj = {"final_proj.weight", "final_proj.bias"} <= set(missing)
    missing = [k for k in missing if not k.startswith("final_proj.")] if no_proj else missing
    mismatched = info.get("mismatched_keys", [])
    if missing or mismatched:
        raise _invalid(path, f"weights missing or of the wrong shape: {(missing + mismatched)[:5]}")
    model.has_final_proj = not no_proj
    return model


def _folder_normalizes(path: Path) -> bool:
    """The folder's feature-extractor ``do_normalize`` (False when absent, as for HuBERT base)."""
    import json

    try:
        return bool(json.loads((path / "preprocessor_config.json").read_text()).get("do_normalize", False))
    except (OSError, ValueError, AttributeError):
        return False


# ---------------------------------------------------------------- fairseq checkpoint


class _Opaque:
    """Stands in for any non-tensor class in a checkpoint's config; keeps its state as data."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __setitem__(self, key: Any, value: Any) -> None:  # dict subclasses are rebuilt item-wise
        self.__dict__.setdefault("items", {})[key] = value

    def append(self, value: Any) -> None:
        self.__dict__.setdefault("list", []).append(value)

    def extend(self, values: Any) -> None:
        self.__dict__.setdefault("list", []).extend(values)


def _opaque_reconstructor(*args: Any) -> _Opaque:
    return _Opaque()


_ALLOWED = {
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    ("torch", "Size"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        if module in ("copyreg", "copy_reg") and name in ("_reconstructor", "__newobj__"):
            return _opaque_reconstructor
        if module == "builtins" and name in ("set", "frozenset", "list", "dict", "tuple"):
            return super().find_class(module, name)
        return _Opaque  # anything else (Namespace, DictConfig, enums...) becomes inert data


class _restricted_pickle:  # noqa: N801 - used as a pickle_module for torch.load
    Unpickler = _RestrictedUnpickler
    __name__ = "persona_restricted_pickle"

    @staticmethod
    def load(f: Any, **kw: Any) -> Any:
        return _RestrictedUnpickler(f, **kw).load()


def _read_checkpoint(path: Path) -> dict:
    try:
        ckpt = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # weights_only refuses the config's classes; rebuild it with inert placeholders instead.
        try:
            ckpt = torch.load(
                str(path), map_location="cpu", weights_only=False, pickle_module=_restricted_pickle
            )
        except PersonaError:
            raise
        except Exception as exc:
            raise _invalid(path, f"cannot be read ({type(exc).__name__})") from exc
    except Exception as exc:
        raise _invalid(path, f"cannot be read ({type(exc).__name__})") from exc
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("model"), dict):
        raise _invalid(path, "it has no 'model' state dict (not a fairseq HuBERT checkpoint)")
    return ckpt


def _cfg_value(ckpt: dict, key: str, default: Any) -> Any:
    """Look ``key`` up in a fairseq checkpoint's cfg["model"] or args, whatever survived loading."""
    for holder in (ckpt.get("cfg"), ckpt.get("args")):
        for obj in (holder, holder.get("model") if isinstance(holder, dict) else None):
            if isinstance(obj, dict) and key in obj:
                return obj[key]
            if isinstance(obj, _Opaque):
                state = getattr(obj, "state", None) or getattr(obj, "items", None)
                if isinstance(state, dict) and key in state:
                    return state[key]
    return default


def _conv_strides(ckpt: dict, kernels: list[int]) -> list[int]:
    spec = _cfg_value(ckpt, "conv_feature_layers", None)
    if isinstance(spec, str):
        strides: list[int] = []
        # e.g. "[(512,10,5)] + [(512,3,2)] * 4 + [(512,2,2)] * 2"
        for dims, times in re.findall(r"\[\(\s*\d+\s*,\s*\d+\s*,\s*(\d+)\s*\)\]\s*(?:\*\s*(\d+))?", spec):
            strides += [int(dims)] * int(times or 1)
        if len(strides) == len(kernels):
            return strides
    return [5 if k == 10 else 2 for k in kernels]  # HuBERT base's layout


_LAYER_RENAMES = (
    ("self_attn.k_proj.", "attention.k_proj."),
    ("self_attn.v_proj.", "attention.v_proj."),
    ("self_attn.q_proj.", "attention.q_proj."),
    ("self_attn.out_proj.", "attention.out_proj."),
    ("self_attn_layer_norm.", "layer_norm."),
    ("fc1.", "feed_forward.intermediate_dense."),
    ("fc2.", "feed_forward.output_dense."),
    ("final_layer_norm.", "final_layer_norm."),
)


def fairseq_to_transformers(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a fairseq HuBERT state dict onto transformers' HubertModel (+ final_proj) names."""
    out: dict[str, torch.Tensor] = {}
    for key, value in sd.items():
        new: str | None = None
        if m := re.fullmatch(r"feature_extractor\.conv_layers\.(\d+)\.0\.weight", key):
            new = f"feature_extractor.conv_layers.{m[1]}.conv.weight"
        elif m := re.fullmatch(r"feature_extractor\.conv_layers\.(\d+)\.2\.(weight|bias)", key):
            new = f"feature_extractor.conv_layers.{m[1]}.layer_norm.{m[2]}"
        elif key.startswith("layer_norm."):
            new = "feature_projection." + key
        elif key.startswith("post_extract_proj."):
            new = key.replace("post_extract_proj.", "feature_projection.projection.")
        elif key == "mask_emb":
            new = "masked_spec_embed"
        elif key == "encoder.pos_conv.0.weight_g":
            new = "encoder.pos_conv_embed.conv.parametrizations.weight.original0"
        elif key == "encoder.pos_conv.0.weight_v":
            new = "encoder.pos_conv_embed.conv.parametrizations.weight.original1"
        elif key == "encoder.pos_conv.0.bias":
            new = "encoder.pos_conv_embed.conv.bias"
        elif key.startswith("encoder.layer_norm.") or key.startswith("final_proj."):
            new = key
        elif m := re.fullmatch(r"encoder\.layers\.(\d+)\.(.+)", key):
            for old, repl in _LAYER_RENAMES:
                if m[2].startswith(old):
                    new = f"encoder.layers.{m[1]}.{repl}{m[2][len(old) :]}"
                    break
        if new is not None:  # label_embs_concat etc. are training-only
            out[new] = value
    return out


def _load_fairseq(path: Path) -> HubertModelWithFinalProj:
    ckpt = _read_checkpoint(path)
    sd = {k: v for k, v in ckpt["model"].items() if isinstance(v, torch.Tensor)}
    try:
        kernels, dims = [], []
        i = 0
        while f"feature_extractor.conv_layers.{i}.0.weight" in sd:
            w = sd[f"feature_extractor.conv_layers.{i}.0.weight"]
            dims.append(int(w.shape[0]))
            kernels.append(int(w.shape[2]))
            i += 1
        n_layers = 0
        while f"encoder.layers.{n_layers}.fc1.weight" in sd:
            n_layers += 1
        hidden = int(sd["post_extract_proj.weight"].shape[0])
        pos_w = sd["encoder.pos_conv.0.weight_v"]
        config = HubertConfig(
            hidden_size=hidden,
            num_hidden_layers=n_layers,
            num_attention_heads=int(_cfg_value(ckpt, "encoder_attention_heads", 12)),
            intermediate_size=int(sd["encoder.layers.0.fc1.weight"].shape[0]),
            conv_dim=tuple(dims),
            conv_kernel=tuple(kernels),
            conv_stride=tuple(_conv_strides(ckpt, kernels)),
            conv_bias="feature_extractor.conv_layers.0.0.bias" in sd,
            num_conv_pos_embeddings=int(pos_w.shape[2]),
            num_conv_pos_embedding_groups=hidden // int(pos_w.shape[1]),
            classifier_proj_size=int(sd["final_proj.weight"].shape[0]),
            feat_extract_norm="group",
            do_stable_layer_norm=False,
        )
    except (KeyError, IndexError, ZeroDivisionError, ValueError) as exc:
        raise _invalid(path, f"unexpected fairseq HuBERT layout ({exc})") from exc
    if not kernels or n_layers < V1_LAYER:
        raise _invalid(path, f"unexpected fairseq HuBERT layout ({n_layers} layers)")
    model = HubertModelWithFinalProj(config)
    mapped = fairseq_to_transformers(sd)
    mapped.setdefault("masked_spec_embed", model.masked_spec_embed.detach().clone())
    try:
        model.load_state_dict(mapped, strict=True)
    except RuntimeError as exc:
        raise _invalid(path, str(exc).splitlines()[0][:300]) from exc
    return model


# ---------------------------------------------------------------- the encoder


class ContentEncoder:
    """A loaded HuBERT/ContentVec model that turns 16 kHz audio into RVC content features."""

    def __init__(
        self,
        model: HubertModelWithFinalProj,
        device: str | torch.device = "cpu",
        *,
        training_normalize: bool = False,
    ) -> None:
        self.device = torch.device(device)
        # RVC's training feature extraction layer-norms the waveform when the model's feature
        # extractor says do_normalize (inference never does); extract(normalize=...) applies it.
        self.training_normalize = training_normalize
        # RVC runs HuBERT in fp16 on CUDA.
        self.half = self.device.type == "cuda"
        self.model = model.to(self.device, torch.float16 if self.half else torch.float32).eval()

    @classmethod
    def from_path(cls, path: str | Path, device: str | torch.device = "cpu") -> ContentEncoder:
        """Load a transformers folder or a fairseq ``.pt`` file."""
        path = Path(path)
        if path.is_dir():
            return cls(_load_folder(path), device, training_normalize=_folder_normalizes(path))
        if path.is_file():
            return cls(_load_fairseq(path), device)
        raise PersonaError("asset_missing", f"HuBERT model not found at {path}")

    @classmethod
    def load(
        cls, assets: AssetManager, device: str | torch.device = "cpu", embedder: str = "contentvec"
    ) -> ContentEncoder:
        """The model's content encoder from the assets folder (see ``persona.rvc.embedders``).

        ContentVec is the ``hubert_base/`` folder when present, else the older ``hubert_base.pt``.
        """
        from persona.rvc import embedders

        name = embedders.normalize(embedder)
        if name == embedders.CUSTOM:
            raise PersonaError(
                "embedder_custom_needed",
                "this model was trained with a custom content encoder; give its transformers folder "
                "(persona convert/cover --embedder PATH)",
            )
        if name != embedders.DEFAULT:
            return cls.from_path(assets.path(embedders.ASSETS[name]), device)
        try:
            return cls.from_path(assets.path("hubert_base"), device)
        except PersonaError as first:
            if first.code != "asset_missing":
                raise
            try:
                path = assets.path("hubert_base.pt")
            except PersonaError:
                raise first from None
            return cls.from_path(path, device)

    @property
    def dims(self) -> dict[str, int]:
        return {"v1": self.model.config.classifier_proj_size, "v2": self.model.config.hidden_size}

    @torch.no_grad()
    def extract(self, wav16k: torch.Tensor, version: str, *, normalize: bool = False) -> torch.Tensor:
        """(1, n) float32 16 kHz audio -> (1, frames, 256 for v1 | 768 for v2), one frame per 320 samples.

        ``normalize=True`` layer-norms the waveform first, as RVC's training extraction does when
        ``training_normalize`` is set; conversion never normalises.
        """
        if version not in ("v1", "v2"):
            raise PersonaError("model_invalid", f"unknown RVC version {version!r} (expected v1 or v2)")
        x = wav16k
        if x.dim() == 1:
            x = x.unsqueeze(0)
        if normalize:
            x = torch.nn.functional.layer_norm(x.float(), x.shape)
        x = x.to(self.device, torch.float16 if self.half else torch.float32)
        if version == "v1":
            if not getattr(self.model, "has_final_proj", True):
                raise PersonaError(
                    "embedder_invalid",
                    "this content encoder has no final_proj layer, which v1 models need; use it with v2 models",
                )
            layers = int(getattr(getattr(self.model, "config", None), "num_hidden_layers", V1_LAYER))
            if layers < V1_LAYER:  # v1 reads layer 9's output: a smaller encoder cannot serve it
                raise PersonaError(
                    "embedder_invalid",
                    f"this content encoder has {layers} layers; v1 models read layer {V1_LAYER}, so they "
                    "need the full HuBERT base (use the model with the standard content encoder)",
                    params={"layers": layers, "needed": V1_LAYER},
                )
            out = self.model(input_values=x, attention_mask=None, output_hidden_states=True, return_dict=True)
            return self.model.final_proj(out.hidden_states[V1_LAYER])
        return self.model(
            input_values=x, attention_mask=None, output_hidden_states=False, return_dict=True
        ).last_hidden_state
