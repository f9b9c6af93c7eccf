"""Quality metrics on signals with known answers (persona.quality): real SwiftF0 and DNSMOS weights."""

from __future__ import annotations

import numpy as np
import pytest

from persona.quality import evaluate, pitch
from persona.testing.audio import voice_like

SR = 16000


@pytest.fixture(scope="module")
def sung() -> np.ndarray:
    return voice_like(6.0, SR, f0=220.0, seed=3)


def test_identical_input_and_output_keep_the_melody_exactly(sung):
    m = evaluate(sung, SR, sung, SR, metrics=["f0"], conversion_f0="rmvpe")
    assert m["f0_estimator"] == "swiftf0"
    assert m["f0_corr"] == pytest.approx(1.0, abs=1e-6)
    assert m["f0_rmse_cents"] == pytest.approx(0.0, abs=1e-6)
    assert m["f0_frames"] > 100
    assert m["unavailable"] == {}


def test_an_octave_up_is_1200_cents_off_unless_the_shift_was_asked_for(sung):
    octave = voice_like(6.0, SR, f0=440.0, seed=3)  # same phrases, every note an octave higher
    m = evaluate(octave, SR, sung, SR, metrics=["f0"])
    assert m["f0_rmse_cents"] == pytest.approx(1200, abs=30)
    assert m["f0_corr"] > 0.95
    shifted = evaluate(octave, SR, sung, SR, metrics=["f0"], shift=12)
    assert shifted["f0_rmse_cents"] < 30


def test_fidelity_of_contours_by_hand():
    f_in = np.array([0, 0] + [200.0 * 2 ** (i / 120) for i in range(40)])
    assert pitch.fidelity(f_in, f_in * 2 ** (100 / 1200))["f0_rmse_cents"] == pytest.approx(100, abs=1e-6)
    steady = pitch.fidelity(np.full(40, 220.0), np.full(40, 220.0))
    assert steady["f0_rmse_cents"] == 0 and steady["f0_corr"] is None
    assert "does not move" in steady["unavailable"]["f0_corr"]
    none = pitch.fidelity(f_in, np.zeros_like(f_in))
    assert (
        none["f0_corr"] is None and none["unavailable"]["f0_rmse_cents"] == "no voiced frames in the output"
    )


def test_the_estimator_is_never_the_one_that_converted():
    assert pitch.pick_estimator("rmvpe") == "swiftf0"
    assert pitch.pick_estimator("swiftf0") == "fcpe"
    assert pitch.pick_estimator(None) == "swiftf0"
    assert pitch.pick_estimator("hybrid[swiftf0+fcpe]") == "crepe"


def test_silent_output_is_unavailable_with_reasons_never_a_number(sung):
    silence = np.zeros(SR * 3, dtype=np.float32)
    m = evaluate(silence, SR, sung, SR, voice=np.ones(256) / 16)
    for key in ("speaker_similarity", "f0_corr", "f0_rmse_cents", "dnsmos_ovrl", "dnsmos_sig", "dnsmos_bak"):
        assert m[key] is None
        assert m["unavailable"][key]
    assert m["unavailable"]["f0_corr"] == "the output is silent"
    assert m["unavailable"]["dnsmos_ovrl"] == "the audio is silent"


def test_dnsmos_orders_clean_above_noise_degraded(sung):
    rng = np.random.default_rng(0)
    noisy = np.clip(sung + 0.2 * rng.standard_normal(sung.size).astype(np.float32), -1, 1)
    clean, degraded = (evaluate(x, SR, metrics=["dnsmos"]) for x in (sung, noisy))
    assert 1.0 <= degraded["dnsmos_ovrl"] < clean["dnsmos_ovrl"] <= 5.0
    assert degraded["dnsmos_bak"] < clean["dnsmos_bak"]
    assert clean["unavailable"] == {}


def test_a_voice_is_most_similar_to_itself(sung):
    from persona.quality import speaker

    voice = speaker.voice_embedding([sung], SR)
    same = evaluate(sung, SR, voice=voice, metrics=["similarity"])["speaker_similarity"]
    assert same == pytest.approx(1.0, abs=1e-3)
    rng = np.random.default_rng(1)
    hiss = (0.1 * rng.standard_normal(SR * 3)).astype(np.float32)
    assert evaluate(hiss, SR, voice=voice, metrics=["similarity"])["speaker_similarity"] < same - 0.05
