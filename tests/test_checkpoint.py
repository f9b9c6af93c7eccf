"""RVC model files: exported small models (RVC, Applio), G_/D_ checkpoints, and every bad input."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
import torch

from persona.errors import PersonaError
from persona.rvc.export import export_small_model
from persona.rvc.model_config import infer_config
from persona.rvc.models import discriminator_for
from persona.rvc.train_checkpoint import load_training_checkpoint, save_training_checkpoint
from persona.rvc.voice_model import load_voice_model
from persona.testing.rvc import (
    build_random_synthesizer,
    random_inputs,
    tiny_config,
    write_discriminator_checkpoint,
    write_small_model,
    write_training_checkpoint,
)


def _invalid(path: Path, *fragments: str) -> PersonaError:
    with pytest.raises(PersonaError) as info:
        load_voice_model(path)
    err = info.value
    assert err.code == "model_invalid"
    for fragment in fragments:
        assert fragment in err.message, err.message
    return err


def _rewrite(path: Path, mutate) -> Path:  # noqa: ANN001
    ckpt = torch.load(path, weights_only=True)
    mutate(ckpt)
    torch.save(ckpt, path)
    return path


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_model(
        tmp_path_factory.mktemp("m") / "voice.pth", sr="40k", version="v2", f0=True, seed=7
    )


def test_small_model_is_rvc_format(small_model: Path) -> None:
    ckpt = torch.load(small_model, weights_only=True)
    assert list(ckpt) == ["weight", "config", "info", "sr", "f0", "version"]
    assert ckpt["sr"] == "40k" and ckpt["f0"] == 1 and ckpt["version"] == "v2"
    assert ckpt["config"] == tiny_config("40k", "v2", True)
    assert all(v.dtype == torch.float16 for v in ckpt["weight"].values())
    assert not any(k.startswith("enc_q") for k in ckpt["weight"])
    assert "dec.m_source.l_linear.weight" in ckpt["weight"] and "dec.ups.0.weight_g" in ckpt["weight"]


def test_load_small_model(small_model: Path) -> None:
    vm = load_voice_model(small_model)
    assert (vm.tgt_sr, vm.f0, vm.version, vm.n_speakers, vm.info) == (40000, True, "v2", 4, "1epoch")
    assert vm.metadata["format"] == "exported" and vm.metadata["sr"] == "40k"
    assert not hasattr(vm.net_g, "enc_q") and not vm.net_g.training
    assert next(vm.net_g.parameters()).dtype == torch.float32
    # The loaded weights are the builder's weights rounded to fp16.
    ref = build_random_synthesizer(vm.config, "v2", True, seed=7, with_posterior=False)
    for key, value in ref.state_dict().items():
        assert torch.equal(vm.net_g.state_dict()[key], value.half().float()), key
    inp = random_inputs(vm.config, "v2", frames=12)
    with torch.no_grad():
        out = vm.net_g.infer(inp["phone"], inp["phone_lengths"], inp["pitch"], inp["nsff0"], inp["sid"])[0]
    assert out.shape == (1, 1, 12 * 400) and torch.isfinite(out).all()


def test_load_with_dtype(small_model: Path) -> None:
    vm = load_voice_model(small_model, dtype=torch.bfloat16)
    assert next(vm.net_g.parameters()).dtype == torch.bfloat16


@pytest.mark.parametrize(
    "sr,version,f0",
    [
        ("32k", "v1", True),
        ("48k", "v1", False),
        ("48k", "v2", True),
        ("32k", "v2", False),
        ("40k", "v1", True),
    ],
)
def test_all_variants_load(tmp_path: Path, sr: str, version: str, f0: bool) -> None:
    vm = load_voice_model(write_small_model(tmp_path / "m.pth", sr=sr, version=version, f0=f0))
    assert (vm.tgt_sr, vm.version, vm.f0) == ({"32k": 32000, "40k": 40000, "48k": 48000}[sr], version, f0)
    assert vm.config == tiny_config(sr, version, f0)


def test_applio_variant(tmp_path: Path) -> None:
    path = write_small_model(tmp_path / "applio.pth", sr="48k", version="v2", applio=True, name="Ana")
    ckpt = torch.load(path, weights_only=True)
    assert any(".parametrizations.weight.original0" in k for k in ckpt["weight"])
    assert ckpt["sr"] == 48000 and ckpt["f0"] is True and "info" not in ckpt
    vm = load_voice_model(path)
    assert (vm.tgt_sr, vm.version, vm.f0) == (48000, "v2", True)
    assert vm.metadata["author"] == "tests" and vm.metadata["model_name"] == "Ana"
    assert vm.metadata["embedder_model"] == "contentvec" and vm.metadata["epoch"] == 1


def test_applio_other_vocoder_is_refused(tmp_path: Path) -> None:
    path = write_small_model(tmp_path / "refine.pth", applio=True)
    _rewrite(path, lambda c: c.__setitem__("vocoder", "RefineGAN"))
    _invalid(path, "RefineGAN")


def test_missing_version_and_f0_are_taken_from_weights(tmp_path: Path) -> None:
    path = write_small_model(tmp_path / "old.pth", sr="40k", version="v2", f0=False)
    _rewrite(path, lambda c: (c.pop("version"), c.pop("f0")))
    vm = load_voice_model(path)
    assert vm.version == "v2" and vm.f0 is False  # RVC itself would assume v1 and fail


@pytest.mark.parametrize(
    "sr,version,f0,config_json",
    [
        ("40k", "v2", True, False),
        ("48k", "v1", True, False),
        ("32k", "v1", False, False),
        ("48k", "v2", False, True),
    ],
)
def test_training_checkpoint_as_voice_model(
    tmp_path: Path, sr: str, version: str, f0: bool, config_json: bool
) -> None:
    path = write_training_checkpoint(
        tmp_path / "G_2333333.pth", sr=sr, version=version, f0=f0, config_json=config_json
    )
    ckpt = torch.load(path, weights_only=True)
    assert set(ckpt) == {"model", "iteration", "optimizer", "learning_rate"}
    assert any(k.startswith("enc_q.") for k in ckpt["model"])
    vm = load_voice_model(path)
    assert vm.metadata["format"] == "training_checkpoint" and vm.info == "3epoch"
    assert (vm.version, vm.f0, vm.config) == (version, f0, tiny_config(sr, version, f0))
    assert not hasattr(vm.net_g, "enc_q")


def test_infer_config_full_size_shapes() -> None:
    from persona.rvc.models import build_synthesizer, standard_config

    for sr, version in [("32k", "v1"), ("48k", "v1"), ("40k", "v2"), ("48k", "v2"), ("32k", "v2")]:
        with torch.device("meta"):
            sd = build_synthesizer(standard_config(sr, version), version, True).state_dict()
        assert infer_config(sd) == standard_config(sr, version)


def test_discriminator_file_is_not_a_voice_model(tmp_path: Path) -> None:
    _invalid(write_discriminator_checkpoint(tmp_path / "D_1.pth"), "discriminator")


# -- bad input ------------------------------------------------------------------------------------


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (os.system, (f"touch {self.marker}",))


def test_pickle_code_is_refused_and_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pth"
    torch.save({"weight": {"x": torch.zeros(1)}, "config": _RunsCode(marker)}, path)
    err = _invalid(path, "refused", "nothing in it was run")
    assert "evil.pth" in err.message
    assert not marker.exists()


def test_truncated_file(tmp_path: Path, small_model: Path) -> None:
    data = small_model.read_bytes()
    path = tmp_path / "cut.pth"
    path.write_bytes(data[: len(data) // 2])
    _invalid(path, "truncated")


def test_random_zip(tmp_path: Path) -> None:
    path = tmp_path / "model.pth"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("model.pth", b"not really")
        zf.writestr("added_IVF1_Flat.index", b"x")
    _invalid(path, "zip archive")


@pytest.mark.parametrize("content", [b"", b"hello, not a model", bytes(range(256)) * 10])
def test_not_a_model_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.pth"
    path.write_bytes(content)
    _invalid(path, "empty" if not content else "not a PyTorch model file")


def test_missing_file(tmp_path: Path) -> None:
    _invalid(tmp_path / "nope.pth", "no such file")


def test_not_an_rvc_checkpoint(tmp_path: Path) -> None:
    torch.save(torch.zeros(3), tmp_path / "tensor.pth")
    _invalid(tmp_path / "tensor.pth", "not an RVC voice model")
    torch.save({"state_dict": {"a": torch.zeros(1)}, "epoch": 3}, tmp_path / "other.pth")
    _invalid(tmp_path / "other.pth", "not an RVC voice model", "state_dict")
    torch.save({"weight": {"encoder.layer.0": torch.zeros(2)}}, tmp_path / "foreign.pth")
    _invalid(tmp_path / "foreign.pth", "not an RVC voice model")


def test_wrong_shape(tmp_path: Path) -> None:
    path = write_small_model(tmp_path / "m.pth")
    _rewrite(
        path, lambda c: c["weight"].__setitem__("dec.conv_pre.weight", torch.zeros(3, 8, 7, dtype=torch.half))
    )
    _invalid(path, "wrong shape", "dec.conv_pre.weight")


def test_missing_and_unexpected_keys(tmp_path: Path) -> None:
    path = write_small_model(tmp_path / "m.pth")
    _rewrite(path, lambda c: c["weight"].pop("flow.flows.0.post.bias"))
    _invalid(path, "missing", "flow.flows.0.post.bias")
    path = write_small_model(tmp_path / "n.pth")
    _rewrite(path, lambda c: c["weight"].__setitem__("dec.extra.weight", torch.zeros(1, dtype=torch.half)))
    _invalid(path, "unexpected", "dec.extra.weight")


def test_config_inconsistent_with_weights(tmp_path: Path) -> None:
    path = write_small_model(tmp_path / "a.pth", version="v2")
    _rewrite(path, lambda c: c.__setitem__("version", "v1"))
    _invalid(path, "version v1", "768")
    path = write_small_model(tmp_path / "b.pth", f0=True)
    _rewrite(path, lambda c: c.__setitem__("f0", 0))
    _invalid(path, "f0=0", "pitch")

    def bigger(c):  # noqa: ANN001, ANN202
        c["config"][3] = 32  # hidden_channels

    _invalid(_rewrite(write_small_model(tmp_path / "c.pth"), bigger), "do not match", "wrong shape")

    def bad_rate(c):  # noqa: ANN001, ANN202
        c["config"][17] = 44100

    _invalid(_rewrite(write_small_model(tmp_path / "d.pth"), bad_rate), "44100")
    _invalid(_rewrite(write_small_model(tmp_path / "e.pth"), lambda c: c["config"].pop()), "18-entry")


def test_non_finite_weights(tmp_path: Path) -> None:
    path = write_small_model(tmp_path / "nan.pth")
    _rewrite(path, lambda c: c["weight"]["emb_g.weight"].fill_(float("nan")))
    _invalid(path, "NaN", "emb_g.weight")


# -- writing ----------------------------------------------------------------------------------------


def test_export_from_state_dict_with_extra(tmp_path: Path) -> None:
    cfg = tiny_config("48k", "v1", False)
    net = build_random_synthesizer(cfg, "v1", False, seed=2)
    out = export_small_model(
        net.state_dict(), config=cfg, sr=48000, f0=False, version="v1", info="50epoch",
        path=tmp_path / "sub" / "x.pth", extra={"author": "me"},
    )  # fmt: skip
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["sr"] == "48k" and ckpt["f0"] == 0 and ckpt["info"] == "50epoch" and ckpt["author"] == "me"
    assert not any("enc_q" in k for k in ckpt["weight"])
    assert [p.name for p in out.parent.iterdir()] == ["x.pth"]  # no temporary left behind
    with pytest.raises(ValueError):
        export_small_model(
            net, config=cfg, sr="44k", f0=False, version="v1", info="", path=tmp_path / "y.pth"
        )
    assert not (tmp_path / "y.pth").exists()


def test_training_checkpoint_round_trip_with_optimizer(tmp_path: Path) -> None:
    cfg = tiny_config("40k", "v2", True)
    net = build_random_synthesizer(cfg, "v2", True, seed=1).train()
    opt = torch.optim.AdamW(net.parameters(), 1e-4, betas=(0.8, 0.99), eps=1e-9)
    inp = random_inputs(cfg, "v2", frames=36, seed=1)
    spec = torch.rand(1, cfg[0], 36)
    o = net(
        inp["phone"], inp["phone_lengths"], inp["pitch"], inp["nsff0"], spec, inp["phone_lengths"], inp["sid"]
    )[0]
    o.pow(2).mean().backward()
    opt.step()
    path = save_training_checkpoint(net, opt, 1e-4, 7, tmp_path / "G_70.pth")

    other = build_random_synthesizer(cfg, "v2", True, seed=99)
    other_opt = torch.optim.AdamW(other.parameters(), 1e-4, betas=(0.8, 0.99), eps=1e-9)
    got = load_training_checkpoint(path, other, other_opt)
    assert (got.iteration, got.learning_rate) == (7, 1e-4)
    for key, value in net.state_dict().items():
        assert torch.equal(other.state_dict()[key], value), key
    assert other_opt.state_dict()["state"][0]["step"] == opt.state_dict()["state"][0]["step"]


def test_pretrained_style_file_and_lenient_load(tmp_path: Path) -> None:
    cfg = tiny_config("40k", "v2", True)
    net = build_random_synthesizer(cfg, "v2", True, seed=1)
    state = {k: v.half() for k, v in net.state_dict().items()}  # pretrained files: fp16, "model" only
    torch.save({"model": state}, tmp_path / "f0G40k.pth")
    target = build_random_synthesizer(cfg, "v2", True, seed=2)
    got = load_training_checkpoint(tmp_path / "f0G40k.pth", target)
    assert got.iteration == 0 and got.learning_rate is None
    assert torch.equal(target.state_dict()["emb_g.weight"], state["emb_g.weight"].float())

    # A model with a different speaker table: strict refuses, lenient keeps its own rows (as RVC).
    cfg2 = list(cfg)
    cfg2[15] = 9
    other = build_random_synthesizer(cfg2, "v2", True, seed=3)
    with pytest.raises(PersonaError, match="emb_g.weight"):
        load_training_checkpoint(tmp_path / "f0G40k.pth", other)
    before = other.state_dict()["emb_g.weight"].clone()
    got = load_training_checkpoint(tmp_path / "f0G40k.pth", other, strict=False)
    assert got.mismatched == ["emb_g.weight"] and torch.equal(other.state_dict()["emb_g.weight"], before)


def test_discriminator_checkpoint_with_parametrization_names(tmp_path: Path) -> None:
    path = write_discriminator_checkpoint(tmp_path / "D_5.pth", version="v1", channel_divisor=16)
    ckpt = torch.load(path, weights_only=True)
    ckpt["model"] = {
        k.replace(".weight_g", ".parametrizations.weight.original0").replace(
            ".weight_v", ".parametrizations.weight.original1"
        ): v
        for k, v in ckpt["model"].items()
    }
    torch.save(ckpt, path)
    net_d = discriminator_for("v1", channel_divisor=16)
    got = load_training_checkpoint(path, net_d, torch.optim.AdamW(net_d.parameters(), 1e-4))
    assert got.iteration == 3
    with pytest.raises(PersonaError, match="model_invalid|missing|unexpected"):
        load_training_checkpoint(path, discriminator_for("v2", channel_divisor=16))


def test_legacy_serialization_loads(tmp_path: Path, small_model: Path) -> None:
    """Old RVC v1 models were saved in torch's pre-1.6 (non-zip) format."""
    ckpt = torch.load(small_model, weights_only=True)
    path = tmp_path / "legacy.pth"
    torch.save(ckpt, path, _use_new_zipfile_serialization=False)
    assert not zipfile.is_zipfile(path)
    assert load_voice_model(path).version == "v2"


def test_rate_name_in_config_is_accepted(tmp_path: Path) -> None:
    path = write_small_model(tmp_path / "m.pth", sr="48k", version="v1")
    _rewrite(path, lambda c: c["config"].__setitem__(17, "48k"))
    assert load_voice_model(path).tgt_sr == 48000


def test_weights_that_are_not_float_tensors(tmp_path: Path) -> None:
    torch.save({"weight": {"enc_p.emb_phone.weight": "text"}, "config": []}, tmp_path / "a.pth")
    _invalid(tmp_path / "a.pth", "named tensors")
    torch.save({"weight": {"enc_p.emb_phone.weight": torch.zeros(2, dtype=torch.long)}}, tmp_path / "b.pth")
    _invalid(tmp_path / "b.pth", "floating-point")
    torch.save({"weight": [1, 2]}, tmp_path / "c.pth")
    _invalid(tmp_path / "c.pth", "not a dictionary of weights")


def test_optimizer_state_that_does_not_fit(tmp_path: Path) -> None:
    path = write_discriminator_checkpoint(tmp_path / "D_1.pth", version="v1", channel_divisor=16)
    net_d = discriminator_for("v1", channel_divisor=16)
    wrong = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], 1e-4)
    with pytest.raises(PersonaError, match="optimizer state"):
        load_training_checkpoint(path, net_d, wrong)
