"""Fixture set for whole-pipeline tests, parity runs and benchmarks, in RVC's file formats.

``write_pipeline_fixtures(folder, size)`` writes, with seeded random weights:

- ``hubert_v2/`` / ``hubert_v1/``: transformers HuBERT folders (RVC's ``assets/hubert_base``
  layout). ``tiny``: v2 keeps the 768-d output with 2 narrow layers, v1 keeps 12 layers (layer 9)
  and a 256-d ``final_proj`` on a 32-d model; ``full``: HuBERT base (both versions share it).
- ``rmvpe.pt``: RMVPE state dict (full size when ``size == "full"`` or ``full_rmvpe``; RVC's
  own loader only accepts the full size).
- ``v2_f0_40k.pth`` / ``v1_nof0_40k.pth``: exported small models as RVC writes them
  (``weight`` fp16 without ``enc_q``, ``config``, ``info``, ``sr``, ``f0``, ``version``);
  ``full`` uses RVC's v2 40k configuration.
- ``added_*_v2.index`` / ``added_*_v1.index``: indexes as RVC's ``train_index.py`` writes them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from persona.testing.content import TINY_HUBERT, write_hubert_folder

# RVC's v2 40k configuration (configs/v2 of upstream RVC, 40k uses v1/40k.json's model block).
FULL_40K = [1025, 32, 192, 192, 768, 2, 6, 3, 0, "1", [3, 7, 11], [[1, 3, 5]] * 3, [10, 10, 2, 2], 512, [16, 16, 4, 4], 109, 256, 40000]  # fmt: skip
TINY_40K = [1025, 32, 16, 16, 32, 2, 2, 3, 0, "1", [3], [[1, 3, 5]], [10, 10, 2, 2], 32, [20, 20, 4, 4], 1, 16, 40000]  # fmt: skip

# v1 keeps HuBERT base's 12 layers (it reads layer 9) and a 256-d final_proj on a 32-d model.
TINY_HUBERT_V1 = {**TINY_HUBERT, "num_hidden_layers": 12, "classifier_proj_size": 256}
# v2 reads the last layer: 2 layers of HuBERT base's 768 width.
TINY_HUBERT_V2 = {
    **TINY_HUBERT_V1,
    "hidden_size": 768,
    "num_hidden_layers": 2,
    "intermediate_size": 64,
    "num_conv_pos_embedding_groups": 16,
}


def write_hubert(folder: str | Path, config: dict | None, seed: int = 0) -> Path:
    """A random HubertModelWithFinalProj saved as a transformers folder (None = HuBERT base)."""
    return write_hubert_folder(folder, seed=seed, config=config or {})


def write_small_model(
    path: str | Path, *, version: str = "v2", f0: bool = True, config: list | None = None, seed: int = 0
) -> Path:
    """A random-weight RVC small model ``.pth`` (RVC's ``process_ckpt`` export layout)."""
    from persona.rvc.models import synthesizer_class

    config = list(config or TINY_40K)
    torch.manual_seed(seed)
    net = synthesizer_class(version, f0)(*config)
    with torch.no_grad():  # RVC's init is N(0, 0.01): scale up so every stage carries signal
        gen = torch.Generator().manual_seed(seed + 1)
        for name, p in net.named_parameters():
            if name.startswith(("enc_p", "flow")) and p.dim() > 1:
                p.add_(0.05 * torch.randn(p.shape, generator=gen))
    weight = {k: v.half() for k, v in net.state_dict().items() if "enc_q" not in k}
    ckpt = {
        "weight": weight,
        "config": config,
        "info": "persona fixture",
        "sr": f"{config[-1] // 1000}k",
        "f0": int(f0),
        "version": version,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, path)
    return path


def write_pipeline_fixtures(
    folder: str | Path, size: str = "tiny", *, full_rmvpe: bool = False, seed: int = 0
) -> dict[str, Path]:
    """Write the whole set into ``folder``; returns name -> path."""
    from persona.testing.content import write_rmvpe
    from persona.testing.index import random_features, write_rvc_index

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    if size == "full":
        out["hubert_v2"] = out["hubert_v1"] = write_hubert(folder / "hubert_base", None, seed)
        config = FULL_40K
    else:
        out["hubert_v2"] = write_hubert(folder / "hubert_v2", TINY_HUBERT_V2, seed)
        out["hubert_v1"] = write_hubert(folder / "hubert_v1", TINY_HUBERT_V1, seed + 10)
        config = TINY_40K
    out["rmvpe"] = write_rmvpe(folder / "rmvpe.pt", seed=seed, tiny=not (full_rmvpe or size == "full"))
    out["v2_f0"] = write_small_model(
        folder / "v2_f0_40k.pth", version="v2", f0=True, config=config, seed=seed
    )
    out["v1_nof0"] = write_small_model(
        folder / "v1_nof0_40k.pth", version="v1", f0=False, config=config, seed=seed + 1
    )
    n = 2000 if size == "full" else 300
    out["index_v2"], _ = write_rvc_index(folder, random_features(n, 768, seed), exp_name="v2f0", seed=seed)
    out["index_v1"], _ = write_rvc_index(folder, random_features(n, 256, seed), exp_name="v1nof0", seed=seed)
    return out


def parity_input(seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """The 16 kHz test vocal used by parity runs (voiced vowels, a gap, a noisy consonant)."""
    from persona.testing.content import voice_like

    return voice_like(seconds, seed=seed)


def fixture_pipeline(
    fixtures: dict[str, Path], model: str = "v2_f0", index: str | None = "index_v2", device: str = "cpu"
):  # noqa: ANN201
    """A ``persona.rvc.pipeline.Pipeline`` on these fixture files (no assets folder needed)."""
    import functools

    from persona.rvc.content import ContentEncoder
    from persona.rvc.f0 import compute_f0
    from persona.rvc.index import load_index
    from persona.rvc.pipeline import Pipeline
    from persona.rvc.voice_model import load_voice_model

    is_half = device.startswith("cuda")
    voice = load_voice_model(fixtures[model], device=device, dtype=torch.float16 if is_half else None)
    content = ContentEncoder.from_path(fixtures[f"hubert_{voice.version}"], device)
    f0_fn = functools.partial(compute_f0, rmvpe_path=fixtures["rmvpe"], device=device)
    idx = load_index(fixtures[index], voice.version) if index else None
    return Pipeline(voice, content, f0_fn, index=idx, device=device, is_half=is_half)
