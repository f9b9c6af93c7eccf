"""A model Persona trains lives in the RVC ecosystem (issue 9, item 5).

``tests/data/reference/persona_tiny_40k.pth`` is a tiny model Persona trained (one epoch, pm,
the default classic f0 convention, recorded in its ``persona`` entry);
``rvc_classic_loads_persona_model.npz`` is what classic RVC (20240604) did with it: loaded as its
``get_vc`` does (class chosen by version and f0, ``config[-3]`` rewritten from ``emb_g``,
``del enc_q``, ``load_state_dict(strict=False)``, whose missing/unexpected keys are stored) and
converted by its ``Pipeline.pipeline``, seeds 0, 1, 2. How: ``README_pipeline_classic.md``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.reference

REF = Path(__file__).parent / "data" / "reference"
TRAINED = REF / "persona_tiny_40k.pth"
DOCUMENTED = {"weight", "config", "info", "sr", "f0", "version", "persona"}


def _rms(a: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(a.astype(np.float64)))))


def test_rvc_classic_loads_and_converts_a_persona_model(tmp_path):
    from persona.rvc.options import ConversionOptions
    from persona.testing.pipeline import fixture_pipeline, parity_input, write_pipeline_fixtures

    data = np.load(REF / "rvc_classic_loads_persona_model.npz")
    case = json.loads(str(data["case"]))
    assert str(data["net_class"]) == "SynthesizerTrnMs768NSFsid"
    assert data["missing_keys"].size == 0 and data["unexpected_keys"].size == 0
    rows = torch.load(TRAINED, weights_only=True)["weight"]["emb_g.weight"].shape[0]
    assert bool(data["finite"]) and json.loads(str(data["config"]))[-3] == rows  # RVC's config[-3] rewrite
    ref = data["out_int16"].astype(np.float64) / 32768
    assert _rms(ref) > 20 * float(np.min(data["seed_diffs"]))  # it converted: a real signal came out

    fixtures = write_pipeline_fixtures(tmp_path, "tiny")
    pipe = fixture_pipeline({**fixtures, "trained": TRAINED}, "trained", None)
    assert pipe.voice.f0_unvoiced == "zero"  # Persona trained it the classic way and says so
    torch.manual_seed(0)
    out, sr = pipe.convert(
        parity_input(case["seconds"], seed=case["seed"]),
        ConversionOptions(
            pitch=case["pitch"], f0_method=case["f0_method"], index_rate=0.0,
            rms_mix_rate=case["rms_mix_rate"], protect=case["protect"],
        ),
    )  # fmt: skip
    assert sr == int(data["sr"]) and out.shape[0] == int(data["n"])
    ours = (out.astype(np.float64) * 32768).astype(np.int16).astype(np.float64) / 32768
    assert _rms(ours - ref) <= float(np.min(data["seed_diffs"]))


def _tensors_equal(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for key in a:
        assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key


def test_export_import_export_keeps_every_tensor_and_key(settings, tmp_path):
    from persona.library import ModelLibrary
    from persona.rvc.export import export_small_model
    from persona.rvc.voice_model import load_voice_model

    original = torch.load(TRAINED, weights_only=True)
    assert set(original) == DOCUMENTED
    upload = tmp_path / "upload.zip"
    with zipfile.ZipFile(upload, "w") as zf:
        zf.write(TRAINED, "my voice.pth")
    lib = ModelLibrary(settings)
    entry = lib.import_zip(upload, name="돌아온 목소리")
    assert entry.metadata["f0_unvoiced"] == "zero" and entry.metadata["persona"] == original["persona"]
    out = lib.export_zip(entry.name, tmp_path / "out.zip")
    with zipfile.ZipFile(out) as zf:
        (tmp_path / "again.pth").write_bytes(zf.read(f"{entry.name}.pth"))
    again = torch.load(tmp_path / "again.pth", weights_only=True)
    assert set(again) == DOCUMENTED
    _tensors_equal(original["weight"], again["weight"])
    assert all(again[k] == original[k] for k in DOCUMENTED - {"weight"})

    # Persona's own writer, from the loaded model: the same tensors (fp16 -> fp32 -> fp16 is exact).
    vm = load_voice_model(tmp_path / "again.pth")
    rewritten = export_small_model(
        vm.net_g, config=vm.config, sr=original["sr"], f0=vm.f0, version=vm.version, info=vm.info,
        path=tmp_path / "rewritten.pth", record=vm.record.to_dict(),
    )  # fmt: skip
    third = torch.load(rewritten, weights_only=True)
    assert set(third) == DOCUMENTED
    _tensors_equal(original["weight"], third["weight"])
    assert all(third[k] == original[k] for k in DOCUMENTED - {"weight"})
