"""Model merge: weights blend by the given ratio; incompatible pairs are refused, nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from persona.errors import PersonaError
from persona.library import ModelLibrary
from persona.library.merge import merge_models
from persona.rvc.pth import read_checkpoint
from persona.rvc.voice_model import load_voice_model
from persona.testing.rvc import write_small_model


def _add(lib: ModelLibrary, tmp: Path, name: str, **kw) -> None:
    pth = write_small_model(tmp / f"{name}.pth", **kw)
    lib.add(name, pth, source="imported")


def test_merge_blends_every_weight_by_the_ratio(settings, tmp_path):
    lib = ModelLibrary(settings)
    _add(lib, tmp_path, "a", seed=1)
    _add(lib, tmp_path, "b", seed=2)
    entry = merge_models(lib, "a", "b", 0.3, "ab")
    assert entry.name == "ab" and entry.metadata["source"] == "merged"
    assert entry.metadata["merged_from"] == {"a": "a", "b": "b", "weight": 0.3}
    wa, wb, wm = (read_checkpoint(lib.get(n).pth_path)["weight"] for n in ("a", "b", "ab"))
    assert set(wm) == set(wa)
    for key in ("enc_p.emb_phone.weight", "dec.conv_pre.weight_v", "flow.flows.0.enc.in_layers.0.weight_g"):
        if key not in wa:
            continue
        expected = 0.3 * wa[key].float() + 0.7 * wb[key].float()
        torch.testing.assert_close(wm[key].float(), expected, atol=2e-3, rtol=2e-3)
        assert not torch.equal(wm[key], wa[key])
    vm = load_voice_model(entry.pth_path)  # a model like any other
    assert vm.version == "v2" and vm.f0 and vm.tgt_sr == 40000


@pytest.mark.parametrize(
    ("b_kwargs", "word"),
    [({"sr": "48k"}, "sample rates"), ({"version": "v1"}, "versions"), ({"f0": False}, "pitch guidance")],
)
def test_incompatible_pairs_are_refused_and_nothing_is_stored(settings, tmp_path, b_kwargs, word):
    lib = ModelLibrary(settings)
    _add(lib, tmp_path, "a", seed=1)
    _add(lib, tmp_path, "b", seed=2, **b_kwargs)
    with pytest.raises(PersonaError) as err:
        merge_models(lib, "a", "b", 0.5, "ab")
    assert err.value.code == "merge_incompatible" and word in err.value.message
    assert not lib.exists("ab")
    assert not any(p.name.startswith(".tmp") for p in lib.root.iterdir())


def test_different_content_encoders_are_refused(settings, tmp_path):
    lib = ModelLibrary(settings)
    _add(lib, tmp_path, "a", seed=1, applio=True)
    pth = write_small_model(tmp_path / "b.pth", seed=2, applio=True)
    ckpt = torch.load(pth, weights_only=True)
    ckpt["embedder_model"] = "korean-hubert-base"
    torch.save(ckpt, pth)
    lib.add("b", pth, source="imported")
    with pytest.raises(PersonaError, match="content encoder"):
        merge_models(lib, "a", "b", 0.5, "ab")


@pytest.mark.parametrize("weight", [-0.1, 1.5, float("nan"), "half"])
def test_weight_out_of_range_is_refused(settings, tmp_path, weight):
    lib = ModelLibrary(settings)
    _add(lib, tmp_path, "a", seed=1)
    _add(lib, tmp_path, "b", seed=2)
    with pytest.raises(PersonaError) as err:
        merge_models(lib, "a", "b", weight, "ab")
    assert err.value.code == "option_invalid"


def test_cli_merge(settings, tmp_path, capsys):
    from persona.cli import main

    lib = ModelLibrary(settings)
    _add(lib, tmp_path, "a", seed=1)
    _add(lib, tmp_path, "b", seed=2)
    base = ["--home", str(settings.home), "--assets", str(settings.assets_dir)]
    assert main([*base, "merge", "a", "b", "--weight", "0.6", "--name", "mix"]) == 0
    assert lib.exists("mix") and "into mix" in capsys.readouterr().out
    assert main([*base, "merge", "a", "nope", "--name", "mix2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope" in err[0]
    assert not lib.exists("mix2")


def test_merge_keeps_the_parents_f0_convention_and_refuses_mixed_ones(settings, tmp_path):
    from persona.rvc.export import export_small_model
    from persona.rvc.record import make_record

    lib = ModelLibrary(settings)

    def persona_model(name: str, seed: int, unvoiced: str) -> None:
        src = write_small_model(tmp_path / f"{name}-src.pth", seed=seed)
        vm = load_voice_model(src)
        pth = tmp_path / f"{name}.pth"
        export_small_model(vm.net_g, config=vm.config, sr=40000, f0=True, version="v2", info="x", path=pth,
                           record=make_record(unvoiced))  # fmt: skip
        lib.add(name, pth, source="trained")

    persona_model("z1", 1, "interpolate")
    persona_model("z2", 2, "interpolate")
    persona_model("c", 3, "zero")
    merged = merge_models(lib, "z1", "z2", 0.5, "zz")
    assert load_voice_model(merged.pth_path).f0_unvoiced == "interpolate"
    with pytest.raises(PersonaError, match="f0 conventions"):
        merge_models(lib, "z1", "c", 0.5, "zc")
