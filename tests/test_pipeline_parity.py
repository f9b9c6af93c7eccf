"""Whole-pipeline parity with the reference RVC implementation (issue #2, item 9).

The reference arrays in ``tests/data/reference/pipeline_*.npz`` were made by running the
reference RVC (``infer/vc/pipeline.py`` ``Pipeline.pipeline``, CPU fp32 config x_pad=1,
x_query=6, x_center=38, x_max=41, from a separate venv, never imported here) on the files
``persona.testing.pipeline.write_pipeline_fixtures(dir, "tiny", full_rmvpe=True)`` writes
(seed 0: random-weight HuBERT folders, full-size ``rmvpe.pt``, RVC small models, RVC indexes)
and on ``parity_input(seconds, seed)``, with ``torch.manual_seed(s)`` for s in 0, 1, 2 before
each run. Each file holds the seed-0 output as int16 (RVC's own output type; for the 42 s case
the first second and one second around each window seam), and ``seed_diffs``: the RMS
difference between the reference's outputs for seeds (0,1), (0,2), (1,2).

The claim tested: with the same seed our output differs from the reference's by no more than the
reference differs from itself across noise seeds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.reference

REF = Path(__file__).parent / "data" / "reference"


def _rms(a: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(a.astype(np.float64)))))


def _load(name: str):
    data = np.load(REF / f"pipeline_{name}.npz")
    return data, json.loads(str(data["case"]))


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    from persona.testing.pipeline import write_pipeline_fixtures

    return write_pipeline_fixtures(tmp_path_factory.mktemp("parity"), "tiny")


@pytest.fixture(scope="module")
def full_rmvpe(tmp_path_factory, fixtures):
    from persona.testing.content import write_rmvpe

    return write_rmvpe(tmp_path_factory.mktemp("rmvpe") / "rmvpe.pt", seed=0, tiny=False)


def _run(fixtures, case, seed=0):
    from persona.rvc.options import ConversionOptions
    from persona.testing.pipeline import fixture_pipeline, parity_input

    model = "v2_f0" if case["model"].startswith("v2") else "v1_nof0"
    index = None
    if case.get("index"):
        index = "index_v2" if model == "v2_f0" else "index_v1"
    pipe = fixture_pipeline(fixtures, model, index)
    opts = ConversionOptions(
        pitch=case["pitch"],
        f0_method=case["f0_method"],
        index_rate=case["index_rate"],
        rms_mix_rate=case["rms_mix_rate"],
        protect=case["protect"],
        resample_sr=case.get("resample_sr", 0),
        # The reference for these cases is RVC 2026, which interpolates unvoiced frames.
        f0_unvoiced=case.get("f0_unvoiced", "interpolate"),
    )
    x = parity_input(case["seconds"], seed=case["seed"])
    torch.manual_seed(seed)
    return pipe.convert(x, opts)


def _as_ref(out: np.ndarray) -> np.ndarray:
    """Our float output on RVC's int16 grid (RVC casts ``x * 32768`` to int16)."""
    return (out.astype(np.float64) * 32768).astype(np.int16).astype(np.float64) / 32768


@pytest.mark.parametrize("name", ["v2_pm", "v1_nof0_resample"])
def test_whole_pipeline_matches_reference(fixtures, name):
    data, case = _load(name)
    out, sr = _run(fixtures, case)
    assert sr == int(data["sr"]) and out.shape[0] == int(data["n"])
    ref = data["out_int16"].astype(np.float64) / 32768
    ours = _rms(_as_ref(out) - ref)
    noise = float(np.min(data["seed_diffs"]))
    assert ours <= noise, f"ours vs reference {ours:.2e} > reference vs itself {noise:.2e}"
    # the bound is not vacuous: the signal is much louder than the seed-to-seed difference
    assert _rms(ref) > 20 * noise


@pytest.mark.slow
def test_whole_pipeline_with_full_rmvpe_matches_reference(fixtures, full_rmvpe):
    data, case = _load("v2_rmvpe")
    out, sr = _run({**fixtures, "rmvpe": full_rmvpe}, case)
    assert sr == int(data["sr"]) and out.shape[0] == int(data["n"])
    ours = _rms(_as_ref(out) - data["out_int16"].astype(np.float64) / 32768)
    assert ours <= float(np.min(data["seed_diffs"]))


@pytest.mark.slow
def test_long_input_windows_match_reference(fixtures):
    data, case = _load("v2_long")
    out, sr = _run(fixtures, case)
    assert out.shape[0] == int(data["n"])
    ours = _as_ref(out)
    sr = int(data["sr"])
    head = _rms(ours[:sr] - data["head_int16"].astype(np.float64) / 32768)
    seams = [ours[s : s + sr] for s in data["seam_starts"]]
    seam = _rms(np.concatenate(seams) - data["seams_int16"].reshape(-1).astype(np.float64) / 32768)
    assert head <= float(np.min(data["seed_diffs"]))
    assert seam <= float(np.min(data["seam_diffs"]))
