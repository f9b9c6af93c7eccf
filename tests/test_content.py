"""Content encoder: both file formats, v1/v2 dims, fairseq mapping, bad files, reference parity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from persona.errors import PersonaError
from persona.rvc.content import ContentEncoder
from persona.testing.content import voice_like, write_fairseq_hubert, write_hubert_folder

REF = Path(__file__).parent / "data" / "reference"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_hubert_folder(tmp_path_factory.mktemp("hubert") / "hubert_base", seed=0)


@pytest.fixture(scope="module")
def encoder(folder: Path) -> ContentEncoder:
    return ContentEncoder.from_path(folder)


def _wav(seconds: float = 1.0) -> torch.Tensor:
    return torch.from_numpy(voice_like(seconds, seed=1)).unsqueeze(0)


def test_v1_v2_dims_and_frame_rate(encoder: ContentEncoder) -> None:
    x = _wav(1.0)
    v1, v2 = encoder.extract(x, "v1"), encoder.extract(x, "v2")
    assert v1.shape == (1, 49, 16)  # final_proj width (256 in the real model)
    assert v2.shape == (1, 49, 32)  # hidden width (768 in the real model)
    assert encoder.dims == {"v1": 16, "v2": 32}
    assert v1.dtype == torch.float32 and torch.isfinite(v2).all()
    with pytest.raises(PersonaError):
        encoder.extract(x, "v3")


def test_v1_is_final_proj_of_layer_9(encoder: ContentEncoder) -> None:
    x = _wav(0.5)
    out = encoder.model(x, output_hidden_states=True)
    assert torch.allclose(encoder.extract(x, "v1"), encoder.model.final_proj(out.hidden_states[9]))
    assert torch.allclose(encoder.extract(x, "v2"), out.hidden_states[12])


@pytest.mark.parametrize("namespace_args", [True, False])
def test_fairseq_checkpoint_equals_folder(
    tmp_path: Path, encoder: ContentEncoder, namespace_args: bool
) -> None:
    pt = write_fairseq_hubert(tmp_path / "hubert_base.pt", seed=0, namespace_args=namespace_args)
    if namespace_args:  # the plain safe loader refuses it; our restricted path must still read it
        with pytest.raises(Exception):  # noqa: B017
            torch.load(pt, weights_only=True)
    other = ContentEncoder.from_path(pt)
    x = _wav(1.0)
    for version in ("v1", "v2"):
        assert torch.equal(other.extract(x, version), encoder.extract(x, version))


def test_pytorch_model_bin_folder(tmp_path: Path, encoder: ContentEncoder) -> None:
    folder = write_hubert_folder(tmp_path / "hb", seed=0, safetensors=False)
    bin_path = folder / "pytorch_model.bin"
    # Older transformers (as in the folder RVC ships) saved weight-norm as weight_g / weight_v.
    sd = torch.load(bin_path, weights_only=True)
    old_names = {
        k.replace("parametrizations.weight.original0", "weight_g").replace(
            "parametrizations.weight.original1", "weight_v"
        ): v
        for k, v in sd.items()
    }
    assert "encoder.pos_conv_embed.conv.weight_g" in old_names
    torch.save(old_names, bin_path)
    other = ContentEncoder.from_path(folder)
    x = _wav(0.5)
    assert torch.equal(other.extract(x, "v2"), encoder.extract(x, "v2"))


class _Assets:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        p = self.root / name
        if not p.exists():
            raise PersonaError("asset_missing", f"{name} is missing")
        return p


def test_load_prefers_folder_then_fairseq(tmp_path: Path, folder: Path) -> None:
    with pytest.raises(PersonaError) as err:
        ContentEncoder.load(_Assets(tmp_path))
    assert err.value.code == "asset_missing"
    write_fairseq_hubert(tmp_path / "hubert_base.pt", seed=3)
    assert ContentEncoder.load(_Assets(tmp_path)).dims["v1"] == 16


def _evil_pickle(path: Path) -> None:
    class Evil:
        def __reduce__(self):  # noqa: ANN204
            return (exec, ("raise SystemExit('pickle code ran')",))

    torch.save({"model": {"x": torch.zeros(1)}, "cfg": Evil()}, path)


@pytest.mark.parametrize("case", ["garbage", "truncated", "empty", "pickle_code", "not_hubert", "missing"])
def test_bad_fairseq_files(tmp_path: Path, case: str) -> None:
    pt = tmp_path / "hubert_base.pt"
    if case == "garbage":
        pt.write_bytes(b"this is not a checkpoint" * 10)
    elif case == "truncated":
        write_fairseq_hubert(pt, seed=0)
        pt.write_bytes(pt.read_bytes()[: pt.stat().st_size // 2])
    elif case == "empty":
        pt.write_bytes(b"")
    elif case == "pickle_code":
        _evil_pickle(pt)
    elif case == "not_hubert":
        torch.save({"model": {"weight": torch.zeros(3)}}, pt)
    elif case == "missing":
        torch.save({"model": {"encoder.layers.0.fc1.weight": torch.zeros(2, 2)}}, pt)
    with pytest.raises(PersonaError) as err:
        ContentEncoder.from_path(pt)
    assert err.value.code == "asset_invalid"


@pytest.mark.parametrize("case", ["no_config", "no_weights", "bad_json", "corrupt_weights", "wrong_shapes"])
def test_bad_folders(tmp_path: Path, case: str) -> None:
    folder = write_hubert_folder(tmp_path / "hb", seed=0)
    if case == "no_config":
        (folder / "config.json").unlink()
    elif case == "no_weights":
        (folder / "model.safetensors").unlink()
    elif case == "bad_json":
        (folder / "config.json").write_text("{not json")
    elif case == "corrupt_weights":
        (folder / "model.safetensors").write_bytes(b"\x00" * 100)
    elif case == "wrong_shapes":
        other = write_hubert_folder(tmp_path / "other", seed=0, tiny=True)
        text = (
            (other / "config.json")
            .read_text()
            .replace('"classifier_proj_size": 16', '"classifier_proj_size": 8')
        )
        (folder / "config.json").write_text(text)
    with pytest.raises(PersonaError) as err:
        ContentEncoder.from_path(folder)
    assert err.value.code == "asset_invalid"


@pytest.mark.reference
def test_matches_reference_rvc(encoder: ContentEncoder) -> None:
    ref = np.load(REF / "content_tiny_seed0.npz")
    x = torch.from_numpy(ref["audio"]).unsqueeze(0)
    for version in ("v1", "v2"):
        ours = encoder.extract(x, version)[0].numpy()
        assert ours.shape == ref[version].shape
        np.testing.assert_allclose(ours, ref[version], rtol=1e-5, atol=1e-5)


def test_training_normalisation_flag(tmp_path: Path, encoder: ContentEncoder) -> None:
    assert encoder.training_normalize is False  # the folder's preprocessor_config says do_normalize: false
    x = _wav(0.5)
    manual = (x - x.mean()) / torch.sqrt(x.var(unbiased=False) + 1e-5)
    torch.testing.assert_close(encoder.extract(x, "v2", normalize=True), encoder.extract(manual, "v2"))
    folder = write_hubert_folder(tmp_path / "hb", seed=0)
    cfg = folder / "preprocessor_config.json"
    cfg.write_text(cfg.read_text().replace('"do_normalize": false', '"do_normalize": true'))
    assert ContentEncoder.from_path(folder).training_normalize is True
