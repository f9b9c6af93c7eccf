"""persona.rvc.pipeline with stand-in models: RVC's windowing, padding, protect, rms mixing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from persona.errors import Cancelled, PersonaError
from persona.progress import CancelToken
from persona.rvc.options import ConversionOptions
from persona.rvc.pipeline import (
    SR,
    Pipeline,
    WindowConfig,
    _frame_rms,
    cut_points,
    finish,
    highpass,
    mix_rms,
)


class FakeContent:
    """One frame per 320 samples (HuBERT's stride); feature = frame mean, repeated over dim."""

    def __init__(self, dim=768):
        self.dim = dim
        self.calls = []

    def extract(self, wav, version):
        x = wav[0].float()
        self.calls.append(x.shape[0])
        frames = (x.shape[0] - 400) // 320 + 1
        means = torch.stack([x[i * 320 : i * 320 + 400].mean() for i in range(frames)])
        return means[None, :, None].repeat(1, 1, self.dim)


class FakeNet:
    """Emits each frame's first feature (+ f0/1000) as ``hop`` samples; records its inputs."""

    def __init__(self, hop):
        self.hop = hop
        self.inputs = []

    def infer(self, phone, lengths, *rest):
        self.inputs.append((phone.clone(), int(lengths[0]), rest))
        n = int(lengths[0])
        x = phone[0, :n, 0]
        if len(rest) == 3:
            x = x + rest[1][0, :n] / 1000
        return (x.repeat_interleave(self.hop)[None, None],)


class FakeVoice:
    def __init__(self, tgt_sr=40000, f0=True, version="v2"):
        self.tgt_sr, self.f0, self.version = tgt_sr, f0, version
        self.net_g = FakeNet(tgt_sr // 100)


def fake_f0(method, wav, *, p_len, pitch, filter_radius, unvoiced="zero"):
    f0 = np.full(p_len, 200.0 * 2 ** (pitch / 12))
    if unvoiced == "zero":
        f0[: p_len // 4] = 0  # an unvoiced stretch
    coarse = np.where(f0 > 0, 100, 1).astype(np.int64)
    return coarse, f0


def tone(seconds, sr=SR, f=220.0, seed=0):
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(seed)
    return (0.3 * np.sin(2 * np.pi * f * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def test_window_config_matches_rvc():
    assert WindowConfig.for_precision(False) == WindowConfig(1, 6, 38, 41)
    assert WindowConfig.for_precision(True) == WindowConfig(3, 10, 60, 65)


def test_highpass_removes_dc_and_rumble():
    x = tone(2.0) + 0.5
    y = highpass(x)
    assert y.dtype == np.float64
    assert abs(y[SR // 2 : -SR // 2].mean()) < 1e-3
    assert np.abs(y[SR // 2 : -SR // 2]).max() < 0.36


def test_cut_points_pick_the_quiet_gap():
    cfg = WindowConfig.for_precision(False)
    x = tone(90.0)
    gap = slice(int(36.0 * SR), int(36.2 * SR))  # within 6 s of the 38 s centre
    x[gap] = 0
    pts = cut_points(x, cfg)
    assert len(pts) == 2
    assert gap.start <= pts[0] < gap.stop
    assert pts[1] - 0 >= 32 * SR and abs(pts[1] - 76 * SR) <= 6 * SR
    # short input: no cuts
    assert cut_points(tone(40.0), cfg) == []


def test_cut_points_equal_rvc_full_sum():
    cfg = WindowConfig(1, 2, 5, 6)
    x = highpass(tone(17.0, seed=3))
    pad = np.pad(x, (80, 80), mode="reflect")
    total = np.zeros_like(x)
    for i in range(160):
        total += np.abs(pad[i : i - 160])
    want = []
    for t in range(cfg.t_center, x.shape[0], cfg.t_center):
        span = total[t - cfg.t_query : t + cfg.t_query]
        want.append(t - cfg.t_query + np.where(span == span.min())[0][0])
    assert cut_points(x, cfg) == want


def test_frame_rms_matches_librosa():
    import librosa  # pinned in pyproject: a missing librosa is a broken install, not a skip

    x = tone(3.3, sr=40000) * np.linspace(0, 1, int(3.3 * 40000), dtype=np.float32)
    want = librosa.feature.rms(y=x, frame_length=40000 // 2 * 2, hop_length=40000 // 2)[0]
    np.testing.assert_allclose(_frame_rms(x, 40000), want, rtol=1e-5)


def test_mix_rms_rate_one_keeps_and_zero_follows_source():
    src = tone(2.0) * np.linspace(0.1, 1, 2 * SR, dtype=np.float32)
    out = tone(2.0, sr=40000, f=300)
    kept = mix_rms(src, SR, out.copy(), 40000, 1.0)
    np.testing.assert_allclose(kept, out, rtol=1e-5)
    followed = mix_rms(src, SR, out.copy(), 40000, 0.0)
    ratio = _frame_rms(followed, 40000) / _frame_rms(src, SR)[: len(_frame_rms(followed, 40000))]
    assert np.all(np.abs(ratio[1:-1] - 1) < 0.25)


def test_finish_scales_loud_peaks_like_rvc():
    loud = np.array([0.0, 2.0, -1.0], dtype=np.float32)
    out = finish(loud)
    assert out.dtype == np.float32
    assert np.isclose(np.abs(out).max(), 0.99)
    quiet = np.array([0.5, -0.2], dtype=np.float32)
    np.testing.assert_array_equal(finish(quiet), quiet)


def test_short_input_lengths_and_f0_slicing():
    voice = FakeVoice()
    content = FakeContent()
    pipe = Pipeline(voice, content, fake_f0)
    x = tone(3.0)
    out, sr = pipe.convert(x, ConversionOptions(pitch=12, rms_mix_rate=1.0, protect=0.5))
    assert sr == 40000
    # one window; output length within a few frames of the input's length at 40 kHz
    assert len(voice.net_g.inputs) == 1
    assert abs(out.shape[0] - 3.0 * 40000) <= 4 * 400
    phone, n, rest = voice.net_g.inputs[0]
    assert phone.shape[1] == n and rest[0].shape[1] == n
    # pitch shift reached the synthesizer (+12 semitones doubles f0)
    assert torch.allclose(rest[1][0, -5:], torch.tensor(400.0))


def test_long_input_uses_windows_and_reports_progress():
    voice = FakeVoice(tgt_sr=32000, f0=False)
    pipe = Pipeline(voice, FakeContent(), None)
    x = tone(45.0)
    seen = []
    out, sr = pipe.convert(x, ConversionOptions(), progress=lambda s, f, m="", **k: seen.append(f))
    assert len(voice.net_g.inputs) == 2
    assert abs(out.shape[0] - 45.0 * 32000) <= 8 * 320
    assert seen[-1] == pytest.approx(1.0) and seen == sorted(seen)


def test_cancel_between_windows():
    voice = FakeVoice(f0=False)
    token = CancelToken()
    pipe = Pipeline(voice, FakeContent(), None)

    def progress(stage, fraction, message="", **m):
        if getattr(message, "code", "") == "convert_part" and message.params["n"] == 1:
            token.cancel()  # right after the first window

    with pytest.raises(Cancelled):
        pipe.convert(tone(45.0), ConversionOptions(), progress=progress, cancel=token)
    assert len(voice.net_g.inputs) == 1


def test_protect_keeps_original_features_on_unvoiced_frames(tmp_path):
    from persona.rvc.index import load_index
    from persona.testing.index import write_rvc_index

    # an index whose vectors are all 5.0: retrieval pulls every feature to 5
    added, _ = write_rvc_index(
        tmp_path, np.full((100, 768), 5.0, np.float32) + 1e-3 * np.arange(100)[:, None]
    )
    voice = FakeVoice()
    pipe = Pipeline(voice, FakeContent(), fake_f0, index=load_index(added, "v2"))
    pipe.convert(tone(2.0), ConversionOptions(index_rate=1.0, protect=0.0, rms_mix_rate=1.0))
    phone, n, rest = voice.net_g.inputs[0]
    voiced = rest[1][0] > 0
    assert torch.allclose(phone[0, voiced, 0], torch.tensor(5.0), atol=0.2)
    assert phone[0, ~voiced, 0].abs().max() < 1.0  # original (small) features kept
    # protect 0.5 disables it: everything retrieved
    voice2 = FakeVoice()
    Pipeline(voice2, FakeContent(), fake_f0, index=load_index(added, "v2")).convert(
        tone(2.0), ConversionOptions(index_rate=1.0, protect=0.5, rms_mix_rate=1.0)
    )
    assert torch.allclose(voice2.net_g.inputs[0][0][0, :, 0], torch.tensor(5.0), atol=0.2)


def test_index_dimension_checked_against_model(tmp_path):
    from persona.rvc.index import load_index
    from persona.testing.index import random_features, write_rvc_index

    added, _ = write_rvc_index(tmp_path, random_features(200, 256))
    with pytest.raises(PersonaError) as err:
        Pipeline(FakeVoice(version="v2"), FakeContent(), fake_f0, index=load_index(added))
    assert err.value.code == "index_invalid"


def test_resample_sr_and_bad_input():
    pipe = Pipeline(FakeVoice(f0=False), FakeContent(), None)
    out, sr = pipe.convert(tone(1.0), ConversionOptions(resample_sr=48000))
    assert sr == 48000 and abs(out.shape[0] - 48000) < 48000 * 0.05
    with pytest.raises(PersonaError) as err:
        pipe.convert(np.zeros(100, np.float32), ConversionOptions())
    assert err.value.code == "audio_too_short"
    with pytest.raises(PersonaError) as err:
        pipe.convert(tone(1.0), ConversionOptions(pitch=25))
    assert err.value.code == "pitch_out_of_range"


@pytest.mark.parametrize(
    "changes,code",
    [
        ({"pitch": 25}, "pitch_out_of_range"),
        ({"pitch": -24.5}, "pitch_out_of_range"),
        ({"pitch": float("nan")}, "pitch_out_of_range"),
        ({"f0_method": "yin"}, "f0_method_invalid"),
        ({"index_rate": 1.5}, "option_invalid"),
        ({"rms_mix_rate": -0.1}, "option_invalid"),
        ({"protect": 0.6}, "option_invalid"),
        ({"filter_radius": 8}, "option_invalid"),
        ({"filter_radius": 2.5}, "option_invalid"),
        ({"resample_sr": 8000}, "option_invalid"),
    ],
)
def test_options_validate(changes, code):
    with pytest.raises(PersonaError) as err:
        ConversionOptions(**changes).validate()
    assert err.value.code == code
    assert ConversionOptions(pitch=-24).validate().pitch == -24


def test_options_from_dict():
    opts = ConversionOptions.from_dict({"pitch": "3", "index_rate": "0.5", "f0_method": "pm"})
    assert opts.pitch == 3.0 and opts.index_rate == 0.5 and opts.f0_method == "pm"
    with pytest.raises(PersonaError):
        ConversionOptions.from_dict({"bogus": 1})
