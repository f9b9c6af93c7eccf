"""ContentEncoder.load and compute_f0 find their weights through the real AssetManager."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from persona.assets import AssetManager
from persona.errors import PersonaError
from persona.rvc.content import ContentEncoder
from persona.rvc.f0 import compute_f0
from persona.settings import Settings
from persona.testing.content import voice_like, write_fairseq_hubert, write_hubert_folder, write_rmvpe


def test_missing_assets_name_the_fix(settings: Settings) -> None:
    assets = AssetManager(settings)
    with pytest.raises(PersonaError) as err:
        ContentEncoder.load(assets)
    assert err.value.code == "asset_missing" and "hubert_base" in err.value.message
    with pytest.raises(PersonaError) as err:
        compute_f0("rmvpe", np.zeros(1600), p_len=10, pitch=0, filter_radius=3, assets=assets)
    assert err.value.code == "asset_missing" and "rmvpe.pt" in err.value.message


def test_loads_from_assets_folder(settings: Settings) -> None:
    assets = AssetManager(settings)
    write_fairseq_hubert(settings.assets / "hubert_base.pt", seed=0)
    assert ContentEncoder.load(assets).dims == {"v1": 16, "v2": 32}  # the fairseq fallback
    write_hubert_folder(settings.assets / "hubert_base", seed=1, safetensors=False)
    enc = ContentEncoder.load(assets)  # the folder wins when present
    write_rmvpe(settings.assets / "rmvpe.pt", seed=0)
    x = voice_like(0.3)
    c, f = compute_f0("rmvpe", x, p_len=len(x) // 160, pitch=0, filter_radius=3, assets=assets)
    assert len(c) == len(f) == len(x) // 160
    wav = torch.from_numpy(x)[None]
    folder_enc = ContentEncoder.from_path(settings.assets / "hubert_base")
    assert torch.equal(enc.extract(wav, "v1"), folder_enc.extract(wav, "v1"))
    assert enc.extract(wav, "v1").shape == (1, 14, 16)
