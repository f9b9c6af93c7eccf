"""Random-weight HuBERT and RMVPE files in the real formats (for tests and benchmarks).

* ``write_hubert_folder``: a transformers folder as current RVC ships ``assets/hubert_base``
  (``config.json`` + ``model.safetensors`` or ``pytorch_model.bin``, with ``final_proj``).
* ``write_fairseq_hubert``: the same weights as an old fairseq ``hubert_base.pt``
  (``{"args": argparse.Namespace | None, "cfg": {...}, "model": state_dict}``).
* ``write_rmvpe``: an ``rmvpe.pt`` state dict, full size (RVC's E2E(4, 1, (2, 2))) or tiny.
``tiny=True`` keeps 12 layers (v1 reads layer 9, v2 layer 12) but small widths.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch

TINY_HUBERT = {
    "hidden_size": 32,
    "num_attention_heads": 2,
    "intermediate_size": 48,
    "conv_dim": (16,) * 7,
    "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 4,
    "classifier_proj_size": 16,
}
# gru_hidden stays 256: RVC's E2E hard-codes it, so the reference can run this tiny model too.
TINY_RMVPE = {
    "n_blocks": 1,
    "n_gru": 1,
    "en_de_layers": 5,
    "inter_layers": 1,
    "en_out_channels": 4,
    "gru_hidden": 256,
}


def _randomize_norms(model: torch.nn.Module, gen: torch.Generator) -> None:
    """Give norm layers non-trivial affine/running stats, so a wrong mapping cannot go unnoticed."""
    with torch.no_grad():
        for mod in model.modules():
            norm = isinstance(mod, torch.nn.LayerNorm | torch.nn.GroupNorm | torch.nn.BatchNorm2d)
            if norm and mod.weight is not None:
                mod.weight.copy_(1 + 0.1 * torch.randn(mod.weight.shape, generator=gen))
                mod.bias.copy_(0.1 * torch.randn(mod.bias.shape, generator=gen))
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.copy_(0.1 * torch.randn(mod.running_mean.shape, generator=gen))
                mod.running_var.copy_(1 + 0.2 * torch.rand(mod.running_var.shape, generator=gen))


def random_hubert(*, seed: int = 0, tiny: bool = True, config: dict[str, Any] | None = None):  # noqa: ANN201
    """A HubertModelWithFinalProj with seeded random weights: of ``config`` (HubertConfig's
    keyword arguments) when given, else ``TINY_HUBERT`` when ``tiny``, else HuBERT base size."""
    from transformers import HubertConfig

    from persona.rvc.content import HubertModelWithFinalProj

    if config is None:
        config = TINY_HUBERT if tiny else {}
    config = HubertConfig(**config)
    torch.manual_seed(seed)
    model = HubertModelWithFinalProj(config).eval()
    _randomize_norms(model, torch.Generator().manual_seed(seed + 1))
    return model


def write_hubert_folder(
    path: str | Path,
    *,
    seed: int = 0,
    tiny: bool = True,
    config: dict[str, Any] | None = None,
    safetensors: bool = True,
) -> Path:
    """Write a random HuBERT (as ``random_hubert``) as a transformers folder; returns the folder."""
    path = Path(path)
    model = random_hubert(seed=seed, tiny=tiny, config=config)
    model.save_pretrained(str(path), safe_serialization=safetensors)
    if not safetensors and not (path / "pytorch_model.bin").exists():  # transformers may refuse .bin
        torch.save(model.state_dict(), path / "pytorch_model.bin")
    (path / "preprocessor_config.json").write_text(
        '{"do_normalize": false, "feature_extractor_type": "Wav2Vec2FeatureExtractor", "feature_size": 1,'
        ' "padding_side": "right", "padding_value": 0, "return_attention_mask": false, "sampling_rate": 16000}'
    )
    return path


def transformers_to_fairseq(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Inverse of ``persona.rvc.content.fairseq_to_transformers`` (to write fairseq-format files)."""
    import re

    fixed = {
        "masked_spec_embed": "mask_emb",
        "encoder.pos_conv_embed.conv.parametrizations.weight.original0": "encoder.pos_conv.0.weight_g",
        "encoder.pos_conv_embed.conv.parametrizations.weight.original1": "encoder.pos_conv.0.weight_v",
        "encoder.pos_conv_embed.conv.bias": "encoder.pos_conv.0.bias",
    }
    layer = (
        ("attention.", "self_attn."),
        ("layer_norm.", "self_attn_layer_norm."),
        ("feed_forward.intermediate_dense.", "fc1."),
        ("feed_forward.output_dense.", "fc2."),
        ("final_layer_norm.", "final_layer_norm."),
    )
    out: dict[str, torch.Tensor] = {}
    for key, value in sd.items():
        old = fixed.get(key)
        if old is None and (m := re.fullmatch(r"feature_extractor\.conv_layers\.(\d+)\.conv\.weight", key)):
            old = f"feature_extractor.conv_layers.{m[1]}.0.weight"
        elif old is None and (
            m := re.fullmatch(r"feature_extractor\.conv_layers\.(\d+)\.layer_norm\.(\w+)", key)
        ):
            old = f"feature_extractor.conv_layers.{m[1]}.2.{m[2]}"
        elif old is None and key.startswith("feature_projection.layer_norm."):
            old = key.removeprefix("feature_projection.")
        elif old is None and key.startswith("feature_projection.projection."):
            old = key.replace("feature_projection.projection.", "post_extract_proj.")
        elif old is None and (key.startswith("encoder.layer_norm.") or key.startswith("final_proj.")):
            old = key
        elif old is None and (m := re.fullmatch(r"encoder\.layers\.(\d+)\.(.+)", key)):
            for new, fair in layer:
                if m[2].startswith(new):
                    old = f"encoder.layers.{m[1]}.{fair}{m[2][len(new) :]}"
                    break
        if old is None:
            raise KeyError(f"no fairseq name for {key}")
        out[old] = value.clone()
    return out


def write_fairseq_hubert(
    path: str | Path, *, seed: int = 0, tiny: bool = True, namespace_args: bool = True
) -> Path:
    """Write the same random weights as ``write_hubert_folder(seed=...)`` in fairseq's format.

    ``namespace_args`` stores an ``argparse.Namespace`` under "args", as old fairseq did, which
    plain ``torch.load(weights_only=True)`` refuses.
    """
    path = Path(path)
    model = random_hubert(seed=seed, tiny=tiny)
    sd = transformers_to_fairseq(model.state_dict())
    sd["label_embs_concat"] = torch.zeros(504, model.config.classifier_proj_size)
    c = model.config
    layers = " + ".join(
        f"[({d},{k},{s})]" for d, k, s in zip(c.conv_dim, c.conv_kernel, c.conv_stride, strict=True)
    )
    model_cfg = {
        "_name": "hubert",
        "encoder_layers": c.num_hidden_layers,
        "encoder_embed_dim": c.hidden_size,
        "encoder_attention_heads": c.num_attention_heads,
        "conv_feature_layers": layers,
        "conv_pos": c.num_conv_pos_embeddings,
        "conv_pos_groups": c.num_conv_pos_embedding_groups,
        "final_dim": c.classifier_proj_size,
    }
    ckpt = {
        "args": argparse.Namespace(**model_cfg) if namespace_args else None,
        "cfg": {"model": model_cfg, "task": {"_name": "hubert_pretraining", "normalize": False}},
        "model": sd,
        "optimizer_history": [],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, path)
    return path


def random_rmvpe(*, seed: int = 0, tiny: bool = True):  # noqa: ANN201
    from persona.rvc.f0.rmvpe import E2E

    torch.manual_seed(seed)
    model = E2E(**TINY_RMVPE) if tiny else E2E()
    _randomize_norms(model, torch.Generator().manual_seed(seed + 1))
    return model.eval()


def write_rmvpe(path: str | Path, *, seed: int = 0, tiny: bool = True) -> Path:
    """Write a random ``rmvpe.pt`` (a plain state dict, as RVC ships it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(random_rmvpe(seed=seed, tiny=tiny).state_dict(), path)
    return path


def voice_like(seconds: float = 2.0, *, seed: int = 0, sr: int = 16000, f0: float = 220.0):  # noqa: ANN201
    """A float32 test signal: harmonic 'vowels' with vibrato, a silent gap and a noisy 'consonant'."""
    import numpy as np

    rng = np.random.RandomState(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    freq = f0 * (1 + 0.02 * np.sin(2 * np.pi * 5 * t))
    phase = 2 * np.pi * np.cumsum(freq) / sr
    x = sum(0.3 / k * np.sin(k * phase) for k in range(1, 8))
    x = x * (0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t) ** 2)
    gap = slice(int(0.45 * n), int(0.6 * n))
    x[gap] = 0.0
    noisy = slice(int(0.6 * n), int(0.7 * n))
    x[noisy] = 0.1 * rng.randn(noisy.stop - noisy.start)
    x = x + 0.003 * rng.randn(n)
    return x.astype(np.float32)
