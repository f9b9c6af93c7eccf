"""RVC's 18-entry model configuration: from an experiment's ``config.json``, inferred from a
generator's weight shapes, and checked when it comes from an untrusted file.

Formats follow RVC (``train/process_ckpt.py: savee`` builds the list from ``config.json``). An
untrusted config is bounded entry by entry (``CONFIG_MAXIMA``) before any network is built from
it; the network it describes is then built on the meta device and its parameter count bounded
(``persona.rvc.pth.MAX_PARAMETERS``) by ``persona.rvc.voice_model``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from persona.rvc.models import SR2SR, UPSAMPLE_CONFIGS
from persona.rvc.pth import MAX_PARAMETERS, invalid

__all__ = ["CONFIG_MAXIMA", "CONFIG_NAMES", "config_from_hparams", "infer_config", "validated_config"]


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


def decoder_parameters(
    channels: int, rates: list[int], kernels: list[int], rb_kernels: list[int], rb_depths: list[int]
) -> int:
    """A lower bound of the HiFi-GAN decoder's weights, from the config alone: each upsampling
    layer halves the channels (``ConvTranspose1d(c, c/2, k)``) and is followed by one residual
    block per kernel of ``2 x depth`` convolutions ``(c/2, c/2, k)``. Lets a config that
    describes a giant network be refused before even the meta-device build (which costs ~1 s)."""
    total, c = 0, channels
    for kernel in kernels[: len(rates)]:
        half = c // 2
        total += c * half * kernel + sum(
            2 * depth * half * half * k for k, depth in zip(rb_kernels, rb_depths, strict=True)
        )
        c = half
    return total


def validated_config(path: Path, config: Any) -> list[Any]:
    """``config`` as RVC's list with plain ints, or ``model_invalid`` naming what is wrong."""
    if not isinstance(config, (list, tuple)) or len(config) != 18:
        raise invalid(path, "its 'config' entry is not RVC's 18-entry configuration list")
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
    except (TypeError, ValueError, OverflowError):
        raise invalid(path, "its 'config' entry has entries of the wrong type") from None
    if min(ints) <= 0 or not rates or min(rates) <= 0 or len(rates) != len(kernels):
        raise invalid(path, "its 'config' entry has impossible sizes")
    if len(rb_kernels) != len(dilations) or int(config[3]) % int(config[5]) != 0:
        raise invalid(path, "its 'config' entry has impossible sizes")
    too_big = [
        f"{CONFIG_NAMES[i]}={int(config[i])} (at most {top})"
        for i, top in CONFIG_MAXIMA.items()
        if not isinstance(config[i], (list, tuple)) and int(config[i]) > top
    ]
    lists = (len(rates) > 8, max(kernels) > 64, len(rb_kernels) > 8, max(rb_kernels, default=0) > 31)
    if too_big or any(lists) or any(len(ds) > 8 or max(ds, default=0) > 64 for ds in dilations):
        shown = ", ".join(too_big[:3]) or "its upsampling or residual-block lists are too long"
        raise invalid(path, f"its 'config' entry has sizes far beyond any RVC model: {shown}")
    sr, hop = int(config[17]), math.prod(rates)
    if hop * 100 != sr:
        raise invalid(
            path,
            f"its config upsamples by {hop} but its sample rate is {sr} Hz (RVC needs {sr // 100}, "
            "i.e. 100 frames per second)",
        )
    if (
        decoder_parameters(int(config[13]), rates, kernels, rb_kernels, [len(d) for d in dilations])
        > MAX_PARAMETERS
    ):
        raise invalid(path, "its config describes a network far larger than any RVC model")
    if not isinstance(config[9], (str, int)) or str(config[9]) not in ("1", "2"):
        raise invalid(path, "its 'config' entry names a residual block type RVC does not have")
    config[9] = str(config[9])
    return config
