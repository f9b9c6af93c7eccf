"""The f0 convention belongs to the model (issue 9): the ``persona`` record, its strictness, the override.

A model without a record converts as classic RVC and Applio do (0 Hz kept in unvoiced frames,
``protect`` acting on them); Persona's exports record ``zero`` or ``interpolate``; ``f0_unvoiced``
(``auto`` = the model's own) overrides it on convert and cover.
"""

from __future__ import annotations

import logging

import pytest
import torch
from test_pipeline import FakeContent, FakeVoice, fake_f0, tone

from persona.errors import PersonaError
from persona.rvc import record as rec
from persona.rvc.options import ConversionOptions
from persona.rvc.pipeline import Pipeline
from persona.testing.pipeline import TINY_40K, write_small_model


def _with_record(path, value):
    ckpt = torch.load(path, weights_only=True)
    ckpt["persona"] = value
    torch.save(ckpt, path)
    return path


def test_record_round_trip_and_classic_default():
    assert rec.read_record({}, "m.pth") == rec.ModelRecord()
    assert rec.read_record({}, "m.pth").f0_unvoiced == "zero"
    made = rec.make_record("interpolate")
    assert made["trainer"].startswith("persona ") and made["embedder"] == "contentvec"
    got = rec.read_record({"persona": made}, "m.pth")
    assert got.present and got.f0_unvoiced == "interpolate" and got.to_dict() == made
    with pytest.raises(ValueError):
        rec.make_record("fill")


@pytest.mark.parametrize(
    "value",
    [
        {"f0_unvoiced": "fill", "trainer": "persona 0.1.0"},
        {"f0_unvoiced": "zero", "trainer": "persona 0.1.0", "colour": "red"},
        {"trainer": "persona 0.1.0"},
        {"f0_unvoiced": "zero", "trainer": "persona 0.1.0", "embedder": 3},
    ],
)
def test_a_malformed_record_persona_wrote_is_refused(value):
    with pytest.raises(PersonaError) as err:
        rec.read_record({"persona": value}, "m.pth")
    assert err.value.code == "model_invalid" and "m.pth" in err.value.message


@pytest.mark.parametrize(
    "value",
    ["zero", ["f0_unvoiced", "zero"], {"f0_unvoiced": "fill"}, {"f0_unvoiced": "zero", "tool": "x"}, None],
)
def test_an_odd_record_in_a_community_model_is_ignored_with_a_warning(value, caplog):
    with caplog.at_level(logging.WARNING, logger="persona.rvc.record"):
        got = rec.read_record({"persona": value}, "m.pth")
    assert not got.present and got.f0_unvoiced == "zero"
    assert got.warnings and "ignored" in got.warnings[0] and "ignored" in caplog.text


def test_voice_model_carries_the_record(tmp_path):
    from persona.rvc.voice_model import load_voice_model

    plain = write_small_model(tmp_path / "plain.pth", config=TINY_40K)
    assert load_voice_model(plain).f0_unvoiced == "zero"
    ours = _with_record(write_small_model(tmp_path / "ours.pth"), rec.make_record("interpolate"))
    vm = load_voice_model(ours)
    assert vm.f0_unvoiced == "interpolate" and "persona" not in vm.metadata
    odd = _with_record(write_small_model(tmp_path / "odd.pth"), "interpolate")
    vm = load_voice_model(odd)
    assert vm.f0_unvoiced == "zero" and vm.record.warnings
    bad = _with_record(write_small_model(tmp_path / "bad.pth"), {"f0_unvoiced": "x", "trainer": "persona 1"})
    with pytest.raises(PersonaError) as err:
        load_voice_model(bad)
    assert err.value.code == "model_invalid" and "record" in err.value.message


def test_export_writes_the_record_and_refuses_a_bad_one(tmp_path):
    from persona.rvc.export import export_small_model
    from persona.rvc.models import synthesizer_class
    from persona.rvc.voice_model import load_voice_model

    net = synthesizer_class("v2", True)(*TINY_40K)
    kw = dict(config=TINY_40K, sr="40k", f0=True, version="v2", info="1epoch")
    path = export_small_model(net, path=tmp_path / "a.pth", record=rec.make_record("zero"), **kw)
    raw = torch.load(path, weights_only=True)
    assert raw["persona"]["f0_unvoiced"] == "zero"
    assert load_voice_model(path).record.present
    with pytest.raises(ValueError):
        export_small_model(net, path=tmp_path / "b.pth", record={"f0_unvoiced": "zero", "x": 1}, **kw)
    assert not (tmp_path / "b.pth").exists()


def test_library_metadata_records_the_convention(settings, tmp_path):
    from persona.library import ModelLibrary

    lib = ModelLibrary(settings)
    ours = _with_record(write_small_model(tmp_path / "ours.pth"), rec.make_record("interpolate"))
    entry = lib.add("ours", ours, source="trained")
    assert entry.metadata["f0_unvoiced"] == "interpolate" and entry.to_dict()["f0_unvoiced"] == "interpolate"
    assert entry.to_dict()["persona"]["f0_unvoiced"] == "interpolate"
    odd = _with_record(write_small_model(tmp_path / "odd.pth"), 7)
    entry = lib.add("odd", odd, source="upload")
    assert entry.to_dict()["f0_unvoiced"] == "zero" and entry.to_dict()["warnings"]
    assert (
        lib.add("plain", write_small_model(tmp_path / "p.pth"), source="upload").to_dict()["f0_unvoiced"]
        == "zero"
    )


class _Recording:
    def __init__(self):
        self.modes = []

    def __call__(self, method, wav, *, p_len, pitch, filter_radius, unvoiced):
        self.modes.append(unvoiced)
        return fake_f0(method, wav, p_len=p_len, pitch=pitch, filter_radius=filter_radius, unvoiced=unvoiced)


@pytest.mark.parametrize(
    "model_mode,option,expected",
    [
        ("zero", "auto", "zero"),
        ("interpolate", "auto", "interpolate"),
        ("interpolate", "zero", "zero"),
        ("zero", "interpolate", "interpolate"),
    ],
)
def test_pipeline_uses_the_models_convention_unless_overridden(model_mode, option, expected):
    voice = FakeVoice()
    voice.f0_unvoiced = model_mode
    f0 = _Recording()
    Pipeline(voice, FakeContent(), f0).convert(tone(1.0), ConversionOptions(f0_unvoiced=option))
    assert f0.modes == [expected]


def test_protect_acts_only_when_unvoiced_frames_stay_zero():
    """With interpolation no frame is unvoiced, so protect < 0.5 changes nothing; with zero it does."""

    def run(mode, protect):
        voice = FakeVoice()
        voice.f0_unvoiced = mode
        Pipeline(voice, FakeContent(), _Recording()).convert(
            tone(1.0), ConversionOptions(protect=protect, index_rate=0.0, rms_mix_rate=1.0)
        )
        return voice.net_g.inputs[0][2][1]  # pitchf

    assert (run("zero", 0.33) == 0).any() and not (run("interpolate", 0.33) == 0).any()


def test_unknown_override_is_refused():
    with pytest.raises(PersonaError) as err:
        ConversionOptions(f0_unvoiced="fill").validate()
    assert err.value.code == "option_invalid" and "f0_unvoiced" in err.value.message
    assert ConversionOptions.from_dict({"f0_unvoiced": "zero"}).validate().f0_unvoiced == "zero"


def test_python_dash_m_persona_is_the_cli(tmp_path):
    """``python -m persona`` runs the same entry point as the ``persona`` script (issue 9, item 6)."""
    import os
    import subprocess
    import sys

    from persona import __version__

    env = {**os.environ, "PERSONA_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "persona", "--version"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == f"persona {__version__}"
    bad = subprocess.run(
        [sys.executable, "-m", "persona", "convert", "--model", "x.pth", "--input", "a.wav", "--output",
         str(tmp_path / "o.wav"), "--f0-unvoiced", "fill"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "f0_unvoiced" in bad.stderr


def test_training_request_validates_the_convention():
    from persona.training import TrainRequest

    assert TrainRequest(name="a", files=["x.wav"]).validate().f0_unvoiced == "zero"
    with pytest.raises(PersonaError) as err:
        TrainRequest(name="a", files=["x.wav"], f0_unvoiced="auto").validate()
    assert err.value.code == "option_invalid"
