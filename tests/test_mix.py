"""Mixing: gains, lengths, rates, loudness target, true-peak ceiling, streaming effects, cancel."""

from __future__ import annotations

import numpy as np
import pedalboard
import pyloudnorm
import pytest
import soundfile as sf

from persona.audio.effects import StreamingEffect, limiter, pitch_shift_chain, vocal_chain
from persona.audio.loudness import LoudnessMeter, integrated_loudness, true_peak
from persona.audio.mix import MixStem, mix_to_file
from persona.errors import Cancelled
from persona.progress import CancelToken


def _noise(seconds, sr, level, seed=0, channels=2):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((channels, int(seconds * sr))) * level).astype(np.float32)


def _write(path, audio, sr):
    sf.write(str(path), np.atleast_2d(audio).T, sr, subtype="FLOAT")
    return path


@pytest.mark.parametrize("sr", [44100, 48000])
def test_streaming_loudness_matches_pyloudnorm(sr):
    x = _noise(5.37, sr, 0.1, seed=sr)
    x[:, : sr // 2] *= 0.001  # a quiet intro exercises the gates
    ref = pyloudnorm.Meter(sr).integrated_loudness(x.T.astype(np.float64))
    meter = LoudnessMeter(sr, 2)
    for i in range(0, x.shape[1], 9999):
        meter.add(x[:, i : i + 9999])
    assert meter.integrated() == pytest.approx(ref, abs=1e-4)
    assert integrated_loudness(np.zeros((2, sr)), sr) == float("-inf")


def test_true_peak_sees_intersample_peaks():
    n = np.arange(4000)
    x = np.sin(np.pi / 2 * n + np.pi / 4).astype(np.float32)[None]  # samples at 0.707, peak 1.0
    assert float(np.abs(x).max()) == pytest.approx(0.7071, abs=1e-3)
    assert true_peak(x) == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("plugins", [lambda: [limiter(-3.0)], lambda: vocal_chain(0.5)])
def test_streaming_effect_keeps_length_and_alignment(plugins):
    sr = 44100
    t = np.arange(sr * 3) / sr
    x = np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 330 * t)]).astype(np.float32)
    x *= (t % 1 < 0.5).astype(np.float32)
    fx = StreamingEffect(plugins(), sr, 2)
    out = np.concatenate(
        [fx.process(x[:, i : i + 7000]) for i in range(0, x.shape[1], 7000)] + [fx.flush()], 1
    )
    assert out.shape == x.shape
    whole = pedalboard.Pedalboard(plugins())(x, sr)  # one call: pedalboard compensates latency
    env_s, env_w = np.abs(out[0]), np.abs(whole[0])
    lags = list(range(-2048, 2049, 16))
    score = [float(np.dot(env_w[sr : 2 * sr], env_s[sr + lag : 2 * sr + lag])) for lag in lags]
    assert abs(lags[int(np.argmax(score))]) <= 32  # the stream is aligned like the whole call


def test_gains_sum_and_length(tmp_path):
    sr = 44100
    a = _noise(2.0, sr, 0.01, seed=1)
    b = _noise(1.0, sr, 0.01, seed=2)  # shorter: padded with silence
    c = _noise(3.0, sr, 0.01, seed=3, channels=1)  # longer and mono: trimmed, upmixed
    stems = [
        MixStem(_write(tmp_path / "a.wav", a, sr), 0.0),
        MixStem(_write(tmp_path / "b.wav", b, sr), -6.0),
        MixStem(_write(tmp_path / "c.wav", c, sr), 6.0),
    ]
    rep = mix_to_file(stems, tmp_path / "out.wav", sr=sr, frames=2 * sr, target_lufs=None)
    out, osr = sf.read(str(tmp_path / "out.wav"), always_2d=True)
    assert osr == sr and out.shape == (2 * sr, 2)
    expect = a.copy()
    expect[:, :sr] += b * 10 ** (-6 / 20)
    expect += np.repeat(c[:, : 2 * sr], 2, axis=0) * 10 ** (6 / 20)
    assert np.abs(out.T - expect).max() < 1e-4  # PCM 24 rounding only
    assert not rep.limited and rep.frames == 2 * sr


@pytest.mark.parametrize("sr,fmt", [(44100, "wav"), (48000, "mp3")])
def test_loudness_target_and_true_peak_ceiling(tmp_path, sr, fmt):
    loud = np.clip(_noise(6.0, sr, 0.9, seed=4), -1, 1)  # hot, clipping-level input
    quiet = _noise(6.0, sr, 0.002, seed=5)
    for name, x in (("loud", loud), ("quiet", quiet)):
        out_path = tmp_path / f"{name}.{fmt}"
        rep = mix_to_file(
            [MixStem(_write(tmp_path / f"{name}_in.wav", x, sr))],
            out_path,
            sr=sr,
            frames=x.shape[1],
            format=fmt,
            target_lufs=-14.0,
        )
        y, ysr = sf.read(str(out_path), always_2d=True, dtype="float32")
        assert ysr == sr and y.shape[1] == 2
        assert abs(y.shape[0] - x.shape[1]) <= (0 if fmt == "wav" else 2 * 1152)
        assert rep.true_peak_db <= -1.0 + 1e-3
        assert float(np.abs(y).max()) < 1.0  # never clips
        if fmt == "wav":
            assert true_peak(y.T) <= 10 ** (-0.9 / 20)
            assert integrated_loudness(y.T, sr) == pytest.approx(-14.0, abs=0.6 if name == "loud" else 0.2)


def test_whole_song_key_shift_moves_the_instrumental(tmp_path):
    sr = 44100
    t = np.arange(3 * sr) / sr
    tone = np.stack([np.sin(2 * np.pi * 220 * t)] * 2).astype(np.float32) * 0.1
    stem = MixStem(_write(tmp_path / "i.wav", tone, sr), 0.0, pitch_shift_chain(12))
    mix_to_file([stem], tmp_path / "o.wav", sr=sr, frames=tone.shape[1], target_lufs=None)
    y, _ = sf.read(str(tmp_path / "o.wav"), always_2d=True)
    assert y.shape == (3 * sr, 2)
    spec = np.abs(np.fft.rfft(y[sr : 2 * sr, 0]))
    assert abs(np.argmax(spec) * sr / sr - 440) < 5  # one octave up (1 s window: 1 Hz bins)
    assert pitch_shift_chain(0) == []


def test_vocal_chain_and_cancel_leaves_nothing(tmp_path):
    sr = 44100
    x = _noise(4.0, sr, 0.05)
    stem = MixStem(_write(tmp_path / "v.wav", x, sr), 0.0, vocal_chain(reverb=0.5))
    token = CancelToken()

    def progress(stage, f, message="", **kw):
        if f > 0.3:
            token.cancel()

    with pytest.raises(Cancelled):
        mix_to_file([stem], tmp_path / "out.wav", sr=sr, frames=x.shape[1], progress=progress, cancel=token)
    assert not (tmp_path / "out.wav").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    with pytest.raises(ValueError):
        vocal_chain(reverb=2.0)
