"""Random-weight separation models in pymss's own formats (YAML config + torch checkpoint).

``write_model(assets_dir, model, size="tiny"|"full")`` writes the weights and the config under
the asset names the registry (``persona.separation.models``) expects, so the real loading code
runs unchanged. "tiny" models are a few thousand parameters and run in milliseconds; "full"
models have the published architectures' sizes (BS-RoFormer ep 317: dim 512, depth 12, 62
bands, 8 s chunks; HTDemucs v4: 48 channels, depth 4, 5 cross-transformer layers, 11 s
segments) for the benchmarks. Their outputs are meaningless but cost the same as the real ones.
Also: synthetic songs (a "vocal" of gliding harmonics over a "band" of chords and noise hits).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from persona.separation.models import MODELS, SeparationModel

_BANDS_1025 = [2] * 24 + [4] * 12 + [12] * 8 + [24] * 8 + [48] * 8 + [128, 129]

_ROFORMER_FULL: dict[str, Any] = {
    "dim": 512,
    "depth": 12,
    "stereo": True,
    "num_stems": 1,
    "time_transformer_depth": 1,
    "freq_transformer_depth": 1,
    "linear_transformer_depth": 0,
    "dim_head": 64,
    "heads": 8,
    "attn_dropout": 0.0,
    "ff_dropout": 0.0,
    "flash_attn": True,
    "dim_freqs_in": 1025,
    "stft_n_fft": 2048,
    "stft_hop_length": 441,
    "stft_win_length": 2048,
    "stft_normalized": False,
    "mask_estimator_depth": 2,
}

_HTDEMUCS_FULL: dict[str, Any] = {
    "channels": 48,
    "growth": 2,
    "nfft": 4096,
    "wiener_iters": 0,
    "end_iters": 0,
    "wiener_residual": False,
    "cac": True,
    "depth": 4,
    "rewrite": True,
    "multi_freqs": [],
    "multi_freqs_depth": 3,
    "freq_emb": 0.2,
    "emb_scale": 10,
    "emb_smooth": True,
    "kernel_size": 8,
    "stride": 4,
    "time_stride": 2,
    "context": 1,
    "context_enc": 0,
    "norm_starts": 4,
    "norm_groups": 4,
    "dconv_mode": 3,
    "dconv_depth": 2,
    "dconv_comp": 8,
    "dconv_init": 1e-3,
    "bottom_channels": 512,
    "t_layers": 5,
    "t_hidden_scale": 4.0,
    "t_heads": 8,
    "t_dropout": 0.0,
    "t_layer_scale": True,
    "t_gelu": True,
    "t_emb": "sin",
    "t_max_positions": 10000,
    "t_max_period": 10000.0,
    "t_weight_pos_embed": 1.0,
    "t_cape_mean_normalize": True,
    "t_cape_augment": True,
    "t_cape_glob_loc_scale": [5000.0, 1.0, 1.4],
    "t_sin_random_shift": 0,
    "t_norm_in": True,
    "t_norm_in_group": False,
    "t_group_norm": False,
    "t_norm_first": True,
    "t_norm_out": True,
    "t_weight_decay": 0.0,
    "t_sparse_self_attn": False,
    "t_sparse_cross_attn": False,
    "t_mask_type": "diag",
    "t_mask_random_seed": 42,
    "t_sparse_attn_window": 400,
    "t_global_window": 100,
    "t_sparsity": 0.95,
    "t_auto_sparsity": False,
    "t_cross_first": False,
    "rescale": 0.1,
}


def _roformer_config(model: SeparationModel, size: str) -> dict[str, Any]:
    mel = model.arch == "mel_band_roformer"
    params = copy.deepcopy(_ROFORMER_FULL)
    chunk = 352800  # 8 s at 44.1 kHz
    if size == "tiny":
        params.update(
            dim=16,
            depth=1,
            heads=2,
            dim_head=8,
            stft_n_fft=256,
            stft_win_length=256,
            stft_hop_length=64,
            dim_freqs_in=129,
            mask_estimator_depth=1,
        )
        chunk = 64 * 160
        if not mel:
            params["freqs_per_bands"] = [32, 32, 65]
    elif not mel:
        params["freqs_per_bands"] = list(_BANDS_1025)
    if mel:
        params.pop("freqs_per_bands", None)
        params.pop("dim_freqs_in", None)
        params.update(num_bands=4 if size == "tiny" else 60, sample_rate=44100)
        if size == "full":
            params.update(dim=384, depth=6)
    residual = {"vocals": "other", "karaoke": "other", "noreverb": "reverb"}[model.target]
    return {
        "audio": {"chunk_size": chunk, "num_channels": 2, "sample_rate": 44100, "min_mean_abs": 0.0},
        "model": params,
        "training": {
            "instruments": [model.target, residual],
            "target_instrument": model.target,
            "use_amp": False,
        },
        "inference": {"batch_size": 1, "num_overlap": 2},
    }


def _htdemucs_config(size: str) -> dict[str, Any]:
    params = copy.deepcopy(_HTDEMUCS_FULL)
    segment = 11  # as the published MSST htdemucs config (pymss needs whole seconds)
    if size == "tiny":
        params.update(
            channels=4,
            depth=2,
            nfft=256,
            bottom_channels=0,
            t_layers=1,
            t_heads=2,
            dconv_comp=2,
            norm_starts=1,
        )
        segment = 1
    return {
        "audio": {"chunk_size": int(44100 * segment), "min_mean_abs": 0.0, "hop_length": 1024},
        "training": {
            "segment": segment,
            "samplerate": 44100,
            "channels": 2,
            "normalize": False,
            "instruments": ["drums", "bass", "other", "vocals"],
            "target_instrument": None,
            "use_amp": False,
        },
        "inference": {"batch_size": 1, "num_overlap": 4},
        "model": "htdemucs",
        "htdemucs": params,
    }


def build_config(model: SeparationModel, size: str = "tiny") -> dict[str, Any]:
    if size not in ("tiny", "full"):
        raise ValueError("size is 'tiny' or 'full'")
    if model.arch == "htdemucs":
        return _htdemucs_config(size)
    return _roformer_config(model, size)


def write_model(assets_dir: str | Path, name: str, size: str = "tiny", seed: int = 0) -> tuple[Path, Path]:
    """Write random weights + config for registry model ``name``; returns (weights, config) paths."""
    import torch
    from pymss_core import get_model_from_config

    model = MODELS[name]
    assets_dir = Path(assets_dir)
    weights = assets_dir / model.weights
    config = assets_dir / model.config
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(yaml.safe_dump(build_config(model, size), sort_keys=False))
    torch.manual_seed(seed)
    net, _ = get_model_from_config(model.arch, str(config))
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    if size == "tiny":  # keep outputs small and finite for random weights
        for k, v in state.items():
            if v.is_floating_point() and v.ndim > 1:
                state[k] = v * 0.5
    torch.save({"state_dict": state} if model.arch != "htdemucs" else {"state": state}, weights)
    return weights, config


def write_all(assets_dir: str | Path, size: str = "tiny") -> None:
    for name in MODELS:
        write_model(assets_dir, name, size)


def synthetic_song(seconds: float = 6.0, sr: int = 44100, seed: int = 0) -> dict[str, np.ndarray]:
    """Stereo stems of a made-up song: {"vocals", "instrumental", "mix"}, each (2, n) float32."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    f0 = 220.0 * 2 ** (np.sin(2 * np.pi * 0.25 * t) * 4 / 12)  # a voice gliding +-4 semitones
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voice = sum(np.sin(k * phase) / k for k in range(1, 6)) * (
        0.5 + 0.5 * (np.sin(2 * np.pi * 0.5 * t) > -0.6)
    )
    vocals = np.stack([voice, voice * 0.9]) * 0.2
    chord = sum(np.sin(2 * np.pi * f * t) for f in (110.0, 138.6, 164.8))
    hits = np.zeros(n)
    for s in range(0, n, sr // 2):
        m = min(n - s, 2000)
        hits[s : s + m] += rng.standard_normal(m) * np.exp(-np.arange(m) / 300)
    band = np.stack([chord * 0.08 + hits * 0.15, chord * 0.07 + hits * 0.12])
    vocals, band = vocals.astype(np.float32), band.astype(np.float32)
    return {"vocals": vocals, "instrumental": band, "mix": vocals + band}
