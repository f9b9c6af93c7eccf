"""Models made with other content encoders: the model's encoder is read, fetched by name and used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from persona.assets import AssetManager
from persona.assets import manifest as mf
from persona.errors import PersonaError
from persona.library import ModelLibrary
from persona.rvc import embedders
from persona.rvc.content import ContentEncoder
from persona.testing.rvc import write_small_model


def _applio_model(path: Path, embedder: str, **kw) -> Path:
    pth = write_small_model(path, applio=True, **kw)
    ckpt = torch.load(pth, weights_only=True)
    ckpt["embedder_model"] = embedder
    torch.save(ckpt, pth)
    return pth


def _folder_without_final_proj(path: Path, seed: int = 5) -> Path:
    from safetensors.torch import load_file, save_file

    from persona.testing.pipeline import TINY_HUBERT_V2, write_hubert

    write_hubert(path, TINY_HUBERT_V2, seed)
    weights = load_file(path / "model.safetensors")
    save_file(
        {k: v for k, v in weights.items() if not k.startswith("final_proj.")}, path / "model.safetensors"
    )
    return path


def test_names_aliases_and_refusals():
    assert embedders.normalize("korean_hubert_base") == "korean-hubert-base"
    assert embedders.normalize("ContentVec") == "contentvec"
    assert embedders.of_model({}) == "contentvec"  # RVC's own models say nothing
    assert embedders.of_model({"embedder_model": "spin"}) == "spin"
    assert embedders.of_model({"persona": {"embedder": "korean-hubert-base"}, "embedder_model": "spin"}) == (
        "korean-hubert-base"
    )
    assert embedders.choose("spin", "auto") == "spin"
    assert embedders.choose("spin", "korean-hubert-base") == "korean-hubert-base"
    with pytest.raises(PersonaError) as err:
        embedders.normalize("wavlm-large")
    assert err.value.code == "embedder_unknown"


def test_every_named_encoder_has_a_manifest_entry_with_public_urls():
    for name, asset_name in embedders.ASSETS.items():
        asset = mf.get(asset_name)
        assert asset is not None, name
        assert all(f.url.startswith("https://") for f in asset.files)


def test_korean_encoder_without_final_proj_loads_for_v2_and_refuses_v1(settings):
    _folder_without_final_proj(Path(settings.assets) / "embedders" / "korean-hubert-base")
    enc = ContentEncoder.load(AssetManager(settings), embedder="korean-hubert-base")
    wav = torch.from_numpy(np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1)
    out = enc.extract(wav[None], "v2")
    assert out.shape[-1] == enc.dims["v2"] and torch.isfinite(out).all()
    with pytest.raises(PersonaError) as err:
        enc.extract(wav[None], "v1")
    assert err.value.code == "embedder_invalid"


def test_missing_encoder_names_the_download(settings):
    with pytest.raises(PersonaError) as err:
        ContentEncoder.load(AssetManager(settings), embedder="spin")
    assert err.value.code == "asset_missing" and "embedders/spin" in err.value.message
    with pytest.raises(PersonaError) as err:
        ContentEncoder.load(AssetManager(settings), embedder="custom")
    assert err.value.code == "embedder_custom_needed"


def test_a_custom_folder_that_is_not_a_transformers_model_is_refused(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    (bad / "pytorch_model.bin").write_bytes(b"junk")
    with pytest.raises(PersonaError) as err:
        ContentEncoder.from_path(bad)
    assert err.value.code == "asset_invalid"


def test_library_records_the_encoder_and_refuses_an_unknown_one(settings, tmp_path):
    lib = ModelLibrary(settings)
    entry = lib.add("ko", _applio_model(tmp_path / "ko.pth", "korean-hubert-base"), source="imported")
    assert entry.to_dict()["embedder"] == "korean-hubert-base"
    plain = lib.add("plain", write_small_model(tmp_path / "p.pth"), source="imported")
    assert plain.to_dict()["embedder"] == "contentvec"
    with pytest.raises(PersonaError) as err:
        lib.add("odd", _applio_model(tmp_path / "odd.pth", "wavlm-large"), source="imported")
    assert err.value.code == "embedder_unknown" and "wavlm-large" in err.value.message
    assert not lib.exists("odd")


def test_conversion_uses_the_models_encoder(settings, tmp_path, monkeypatch):
    """A Korean-HuBERT model converts with that encoder; an override wins; output differs."""
    from persona.rvc import convert as conv
    from persona.rvc.options import ConversionOptions
    from persona.testing.content import voice_like, write_rmvpe
    from persona.testing.pipeline import TINY_HUBERT_V2, write_hubert

    write_hubert(Path(settings.assets) / "hubert_base", TINY_HUBERT_V2, 0)
    _folder_without_final_proj(Path(settings.assets) / "embedders" / "korean-hubert-base", seed=9)
    write_rmvpe(Path(settings.assets) / "rmvpe.pt", tiny=True)
    used: list[str] = []
    real = conv._content_encoder

    def spy(settings_, device, embedder="contentvec", folder=None):
        used.append(embedder)
        return real(settings_, device, embedder, folder)

    monkeypatch.setattr(conv, "_content_encoder", spy)
    pth = _applio_model(tmp_path / "ko.pth", "korean-hubert-base")
    audio = voice_like(1.0, seed=1)
    opts = ConversionOptions(f0_method="pm")
    torch.manual_seed(0)
    ko, _ = conv.convert_audio(settings, pth, audio, 16000, opts)
    torch.manual_seed(0)
    cv, _ = conv.convert_audio(
        settings, pth, audio, 16000, ConversionOptions(f0_method="pm", embedder="contentvec")
    )
    assert used == ["korean-hubert-base", "contentvec"]
    assert not np.allclose(ko, cv)
