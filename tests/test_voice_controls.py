"""Pitch methods and voice controls with known answers: autotune, hybrid, SwiftF0, formant shift."""

from __future__ import annotations

import numpy as np
import pytest

from persona.audio.formant import shift_formants
from persona.errors import PersonaError
from persona.rvc.f0 import autotune, hybrid
from persona.rvc.f0.swift import swift_f0

SR = 16000


def cents(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 1200 * np.log2(a / b)


# ---- autotune ----------------------------------------------------------------------------------
def test_autotune_full_strength_lands_on_the_nearest_semitone_and_keeps_unvoiced():
    f0 = np.array([0.0, 440.0 * 2 ** (0.3 / 12), 440.0 * 2 ** (-0.4 / 12), 0.0, 261.63 * 2 ** (0.45 / 12)])
    out = autotune.autotune(f0, 1.0)
    assert out[0] == 0 and out[3] == 0
    np.testing.assert_allclose(out[1:3], [440.0, 440.0], rtol=1e-9)
    assert abs(cents(out[4], 261.6256)) < 0.1  # C4


def test_autotune_strength_moves_part_of_the_way_in_cents():
    f0 = np.array([440.0 * 2 ** (0.4 / 12)])  # 40 cents sharp of A4
    half = autotune.autotune(f0, 0.5)
    assert abs(cents(half[0], 440.0) - 20.0) < 1e-6
    np.testing.assert_array_equal(autotune.autotune(f0, 0.0), f0)


def test_autotune_key_snaps_to_the_scale_only():
    c_sharp4 = 277.18  # not in C major: the nearest C-major notes are C4 and D4
    out = autotune.autotune(np.array([c_sharp4 * 2 ** (0.1 / 12)]), 1.0, "C major")
    assert abs(cents(out[0], 293.66)) < 0.5  # D4 is nearer than C4 from 10 cents above C#4
    assert abs(cents(autotune.autotune(np.array([c_sharp4]), 1.0, "A major")[0], c_sharp4)) < 0.5


@pytest.mark.parametrize("key", ["H major", "C dorian", "", "C##  major", "major"])
def test_autotune_key_that_is_not_a_key_is_refused(key):
    with pytest.raises(PersonaError) as err:
        autotune.scale_pitch_classes(key)
    assert err.value.code == "autotune_key_invalid"


def test_every_offered_key_parses_to_seven_or_twelve_classes():
    for key in autotune.KEY_NAMES:
        assert len(autotune.scale_pitch_classes(key)) in (7, 12)
    assert autotune.scale_pitch_classes("Bb major") == (0, 2, 3, 5, 7, 9, 10)


# ---- hybrid ------------------------------------------------------------------------------------
def test_hybrid_parse():
    known = ("rmvpe", "crepe", "fcpe", "pm")
    assert hybrid.parse("hybrid[rmvpe+crepe]", known) == ("rmvpe", "crepe")
    assert hybrid.parse("rmvpe", known) is None
    for bad in ("hybrid[rmvpe]", "hybrid[rmvpe+rmvpe]", "hybrid[rmvpe+nope]", "hybrid(rmvpe+pm)"):
        with pytest.raises(PersonaError):
            hybrid.parse(bad, known)


def test_hybrid_median_outvotes_an_octave_error_and_a_false_voicing():
    a = np.array([220.0, 0.0, 230.0, 0.0])
    b = np.array([221.0, 0.0, 460.0, 150.0])  # octave error at frame 2, false voicing at frame 3
    c = np.array([219.0, 0.0, 229.0, 0.0])
    np.testing.assert_allclose(hybrid.combine([a, b, c]), [220.0, 0.0, 230.0, 0.0])


# ---- SwiftF0 on real signals with known pitch -------------------------------------------------
def _harmonic_tone(f0: float, seconds: float) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    return sum(0.3 / k * np.sin(2 * np.pi * f0 * k * t) for k in range(1, 6)).astype(np.float32)


@pytest.mark.parametrize("f0", [130.81, 220.0, 392.0])
def test_swiftf0_hears_a_known_pitch_on_rvc_frames(f0):
    x = np.concatenate(
        [np.zeros(SR // 2, np.float32), _harmonic_tone(f0, 1.5), np.zeros(SR // 2, np.float32)]
    )
    p_len = x.shape[0] // 160
    curve = swift_f0(x, p_len)
    assert curve.shape == (p_len,)
    middle = curve[80:-80]  # the tone, away from its edges
    voiced = middle[(np.arange(len(middle)) >= 20) & (np.arange(len(middle)) < len(middle) - 20)]
    assert (voiced > 0).all()
    assert np.median(np.abs(cents(voiced, f0))) < 25
    assert (curve[:30] == 0).all() and (curve[-30:] == 0).all()  # the silences stay unvoiced


# ---- formant shift ----------------------------------------------------------------------------
def _vowel(f0: float, formant: float, seconds: float = 1.0) -> np.ndarray:
    """A pulse train through one resonance at ``formant`` Hz: pitch and envelope known apart."""
    from scipy import signal

    n = int(SR * seconds)
    pulses = np.zeros(n)
    pulses[:: int(SR / f0)] = 1.0
    r = 0.97
    w = 2 * np.pi * formant / SR
    y = signal.lfilter([1.0], [1.0, -2 * r * np.cos(w), r * r], pulses)
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


def _centroid(x: np.ndarray) -> float:
    """Spectral centroid over 100-6000 Hz: where the envelope's energy sits."""
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    band = (freqs > 100) & (freqs < 6000)
    return float((spec[band] * freqs[band]).sum() / spec[band].sum())


def test_formant_shift_moves_the_envelope_and_keeps_the_pitch():
    x = _vowel(125.0, 1000.0)
    up = shift_formants(x, SR, 4.0)  # factor 1.26
    down = shift_formants(x, SR, -4.0)
    assert up.shape == x.shape and np.isfinite(up).all()
    # Measured with Applio's settings (0.8 ms lifter): +-4 semitones move the centroid ~+-6 %.
    base, c_up, c_down = _centroid(x), _centroid(up), _centroid(down)
    assert abs(base - 1000) < 100
    assert 1.03 < c_up / base < 1.3
    assert 1.03 < base / c_down < 1.3
    assert _centroid(shift_formants(x, SR, 8.0)) > c_up  # monotonic in the shift
    pitch = swift_f0(up, len(up) // 160)[20:-20]
    assert np.median(np.abs(cents(pitch[pitch > 0], 125.0))) < 30  # pitch kept
    np.testing.assert_array_equal(shift_formants(x, SR, 0.0), x)
    with pytest.raises(PersonaError):
        shift_formants(x, SR, 13.0)


# ---- the options and compute_f0 wiring -------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"autotune_key": "H major", "autotune": 1.0}, "autotune_key_invalid"),
        ({"autotune": 1.5}, "option_invalid"),
        ({"formant": 20.0}, "option_invalid"),
        ({"f0_method": "hybrid[rmvpe]"}, "f0_method_invalid"),
        ({"embedder": "wavlm"}, "embedder_unknown"),
        ({"embedder": "custom"}, "embedder_unknown"),
    ],
)
def test_bad_voice_control_values_are_clear_errors(values, code):
    from persona.rvc.options import ConversionOptions

    with pytest.raises(PersonaError) as err:
        ConversionOptions(**values).validate()
    assert err.value.code == code


def test_good_voice_control_values_validate():
    from persona.rvc.options import ConversionOptions

    ConversionOptions(
        f0_method="hybrid[pm+harvest+swiftf0]", autotune=0.5, autotune_key="F# minor", formant=-3.5,
        embedder="korean-hubert-base",
    ).validate()  # fmt: skip


def test_compute_f0_hybrid_with_autotune_lands_on_notes():
    from persona.rvc.f0 import compute_f0

    x = np.concatenate([_harmonic_tone(225.0, 1.0), np.zeros(SR // 4, np.float32)])  # between A3 and A#3
    p_len = x.shape[0] // 160
    _, f0 = compute_f0("hybrid[pm+swiftf0+harvest]", x, p_len=p_len, pitch=0, filter_radius=3,
                       unvoiced="zero", autotune=1.0)  # fmt: skip
    voiced = f0[20:80]
    assert (voiced > 0).all()
    np.testing.assert_allclose(voiced, 220.0, rtol=1e-6)  # A3, the nearest note to 225 Hz
    assert (f0[-10:] == 0).all()


# ---- the whole pipeline with every control on ------------------------------------------------
@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory):
    from persona.testing.pipeline import fixture_pipeline, write_pipeline_fixtures

    return fixture_pipeline(write_pipeline_fixtures(tmp_path_factory.mktemp("vc")), index=None)


def test_pipeline_runs_hybrid_autotune_and_formant(tiny_pipeline):
    import torch

    from persona.rvc.options import ConversionOptions
    from persona.testing.pipeline import parity_input

    audio = parity_input(2.0)
    plain = ConversionOptions(f0_method="hybrid[pm+swiftf0]", rms_mix_rate=1.0)
    torch.manual_seed(0)
    base, sr = tiny_pipeline.convert(audio, plain)
    out = {}
    for name, change in {
        "autotune": {"autotune": 1.0, "autotune_key": "c major"},
        "formant": {"formant": 4.0},
    }.items():
        torch.manual_seed(0)
        out[name], _ = tiny_pipeline.convert(audio, ConversionOptions(**{**plain.to_dict(), **change}))
    assert sr == 40000 and np.isfinite(base).all()
    for name, y in out.items():
        assert y.shape == base.shape and np.isfinite(y).all(), name
        assert not np.allclose(y, base, atol=1e-4), f"{name} changed nothing"
