"""compute_f0: RVC's post-processing (shift, fill, coarse, p_len), DSP methods, bad inputs, parity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from persona.errors import PersonaError
from persona.rvc.f0 import F0_METHODS, compute_f0, postprocess
from persona.testing.content import voice_like

REF = Path(__file__).parent / "data" / "reference"


def test_methods_listed() -> None:
    assert F0_METHODS == ("rmvpe", "crepe", "fcpe", "harvest", "pm", "swiftf0")


def test_coarse_scale_matches_rvc_formula() -> None:
    f0 = np.array([0.0, 49.0, 50.0, 100.0, 440.0, 1100.0, 3000.0])
    c = postprocess.coarse(f0.copy())
    assert c.dtype == np.int32
    assert c[0] == 1 and c[1] == 1 and c[2] == 1 and c[5] == 255 and c[6] == 255
    assert 1 < c[3] < c[4] < 255
    mel = 1127 * np.log(1 + 440 / 700)
    assert c[4] == int(
        np.rint((mel - postprocess.F0_MEL_MIN) * 254 / (postprocess.F0_MEL_MAX - postprocess.F0_MEL_MIN) + 1)
    )


def test_fill_unvoiced_interpolates_and_keeps_silence() -> None:
    f0 = np.array([0.0, 100.0, 0.0, 0.0, 200.0, 0.0])
    np.testing.assert_allclose(postprocess.fill_unvoiced(f0), [100, 100, 133.333333, 166.666667, 200, 200])
    assert (postprocess.fill_unvoiced(np.zeros(5)) == 0).all()


@pytest.mark.parametrize("method", ["pm", "harvest"])
def test_pitch_shift_plus_12_doubles(method: str) -> None:
    x = voice_like(0.6, seed=2).astype(np.float64)
    p_len = len(x) // 160
    c0, f0 = compute_f0(method, x, p_len=p_len, pitch=0, filter_radius=3)
    c12, f12 = compute_f0(method, x, p_len=p_len, pitch=12, filter_radius=3)
    assert len(f0) == len(c0) == p_len
    np.testing.assert_allclose(f12, 2 * f0)
    assert (c12[f0 > 60] > c0[f0 > 60]).all()
    voiced = f0[(f0 > 0)]
    assert abs(np.median(voiced) - 220) < 5  # the test signal's fundamental


def test_filter_radius_applies_to_harvest_only() -> None:
    x = voice_like(0.6, seed=4).astype(np.float64)
    p_len = len(x) // 160
    _, h3 = compute_f0("harvest", x, p_len=p_len, pitch=0, filter_radius=3)
    _, h0 = compute_f0("harvest", x, p_len=p_len, pitch=0, filter_radius=0)
    _, h2 = compute_f0("harvest", x, p_len=p_len, pitch=0, filter_radius=2)
    assert not np.array_equal(h3, h0)
    np.testing.assert_array_equal(h2, h0)  # RVC filters only when filter_radius > 2
    _, p3 = compute_f0("pm", x, p_len=p_len, pitch=0, filter_radius=3)
    _, p0 = compute_f0("pm", x, p_len=p_len, pitch=0, filter_radius=0)
    np.testing.assert_array_equal(p3, p0)


@pytest.mark.parametrize("method", ["pm", "harvest"])
def test_silence_gives_zero_f0_and_coarse_one(method: str) -> None:
    x = np.zeros(8000)
    c, f = compute_f0(method, x, p_len=50, pitch=5, filter_radius=3)
    assert (f == 0).all() and (c == 1).all() and len(f) == 50


def test_p_len_alignment_pads_and_cuts() -> None:
    x = voice_like(0.5).astype(np.float64)
    for p_len in (10, 50, 60):
        c, f = compute_f0("pm", x, p_len=p_len, pitch=0, filter_radius=3)
        assert len(c) == len(f) == p_len


def test_unknown_method_and_missing_assets() -> None:
    x = np.zeros(1600)
    with pytest.raises(PersonaError) as err:
        compute_f0("yin", x, p_len=10, pitch=0, filter_radius=3)
    assert err.value.code == "f0_method_invalid"
    with pytest.raises(PersonaError) as err:
        compute_f0("rmvpe", x, p_len=10, pitch=0, filter_radius=3)
    assert err.value.code == "asset_missing"


@pytest.mark.reference
def test_pm_matches_reference_rvc() -> None:
    ref = np.load(REF / "f0_pm.npz")
    x = ref["audio"].astype(np.float64)
    c, f = compute_f0(
        "pm", x, p_len=len(x) // 160, pitch=float(ref["pitch"]), filter_radius=3, unvoiced="interpolate"
    )  # RVC 2026 made the reference
    np.testing.assert_array_equal(c, ref["coarse"])
    np.testing.assert_allclose(f, ref["f0"], rtol=1e-12)


@pytest.mark.reference
def test_harvest_matches_reference_rvc() -> None:
    from persona.rvc.f0 import raw_f0

    ref = np.load(REF / "f0_harvest.npz")
    x = ref["audio"].astype(np.float64)
    p_len = len(x) // 160
    np.testing.assert_array_equal(raw_f0("harvest", x, p_len=p_len, filter_radius=3), ref["raw_r3"])
    np.testing.assert_array_equal(raw_f0("harvest", x, p_len=p_len, filter_radius=1), ref["raw_r0"])


def test_unvoiced_frames_stay_zero_unless_the_model_interpolates() -> None:
    x = voice_like(0.6, seed=2).astype(np.float64)  # has a silent gap
    p_len = len(x) // 160
    _, raw = compute_f0("pm", x, p_len=p_len, pitch=0, filter_radius=3)  # classic RVC: the default
    _, filled = compute_f0("pm", x, p_len=p_len, pitch=0, filter_radius=3, unvoiced="interpolate")
    assert (raw == 0).any() and not (filled == 0).any()
    np.testing.assert_array_equal(filled[raw > 0], raw[raw > 0])
    with pytest.raises(PersonaError) as err:
        compute_f0("pm", x, p_len=p_len, pitch=0, filter_radius=3, unvoiced="fill")
    assert err.value.code == "option_invalid"
