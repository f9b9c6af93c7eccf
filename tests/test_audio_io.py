"""Audio decoding/encoding/resampling: every format, odd shapes and every bad-input case."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from persona.audio.io import AudioInfo, ensure_not_silent, load_audio, probe_audio, save_audio
from persona.audio.resample import resample, resampled_length
from persona.errors import PersonaError
from persona.testing.audio import (
    ALL_FORMATS,
    SUFFIX,
    song_like,
    voice_like,
    write_audio,
    write_silence,
    write_song,
    write_text_as_audio,
    write_voice,
)

SR = 44100


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    """Best normalised correlation over small lags (codecs add delay/padding)."""
    best = 0.0
    n = min(len(a), len(b)) - 4096
    for lag in range(0, 3000, 1):
        if lag >= n:
            break
        x, y = a[lag : lag + n], b[:n]
        c = float(np.dot(x, y) / (np.linalg.norm(x) * np.linalg.norm(y) + 1e-12))
        best = max(best, c)
        if best > 0.995:
            break
    return best


@pytest.fixture(scope="module")
def stereo() -> np.ndarray:
    x = voice_like(1.0, SR, seed=3)
    return np.stack([x, 0.5 * x])


LOSSLESS = ("wav_u8", "wav16", "wav24", "wav32", "wav_float", "wav_double", "flac")


@pytest.mark.parametrize("fmt", [f for f in ALL_FORMATS if f != "opus"])
def test_decode_every_format(tmp_path: Path, stereo: np.ndarray, fmt: str) -> None:
    path = write_audio(tmp_path / f"in{SUFFIX[fmt]}", stereo, SR, fmt)
    info = probe_audio(path)
    assert isinstance(info, AudioInfo)
    assert info.sample_rate == SR and info.channels == 2
    assert abs(info.duration_s - 1.0) < 0.1
    audio, sr = load_audio(path, mono=False)
    assert sr == SR and audio.dtype == np.float32 and audio.shape[0] == 2
    assert abs(audio.shape[1] - SR) < 0.06 * SR
    assert np.all(np.isfinite(audio)) and np.max(np.abs(audio)) <= 1.0
    if fmt in LOSSLESS:
        tol = 1 / 100 if fmt == "wav_u8" else 1e-4
        np.testing.assert_allclose(audio, stereo, atol=tol)
    else:
        # Lossy codecs: same waveform up to codec delay.
        assert _corr(audio[0], stereo[0]) > 0.9
    # The second channel is half the first, in every codec.
    ratio = np.linalg.norm(audio[1]) / np.linalg.norm(audio[0])
    assert 0.45 < ratio < 0.55


def test_opus_at_48k(tmp_path: Path) -> None:
    x = voice_like(1.0, 48000, seed=1)
    path = write_audio(tmp_path / "v.opus", x, 48000, "opus")
    audio, sr = load_audio(path)
    assert sr == 48000 and audio.ndim == 1 and abs(len(audio) - 48000) < 2000


def test_mono_is_channel_mean(tmp_path: Path, stereo: np.ndarray) -> None:
    path = write_audio(tmp_path / "s.wav", stereo, SR, "wav_float")
    mono, _ = load_audio(path)
    np.testing.assert_allclose(mono, stereo.mean(axis=0), atol=1e-6)


@pytest.mark.parametrize("channels", [1, 3, 6])
def test_multichannel(tmp_path: Path, channels: int) -> None:
    x = voice_like(0.5, 22050, seed=channels)
    data = np.stack([x * (i + 1) / channels for i in range(channels)])
    path = write_audio(tmp_path / "mc.flac", data, 22050, "flac")
    audio, sr = load_audio(path, mono=False)
    assert audio.shape == (channels, len(x)) and sr == 22050
    m4a = write_audio(tmp_path / "mc.m4a", data, 22050, "m4a")
    audio2, _ = load_audio(m4a, mono=False)
    assert audio2.shape[0] == channels


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 32000, 40000, 96000])
def test_odd_rates_and_resampling_on_load(tmp_path: Path, rate: int) -> None:
    x = voice_like(0.5, rate, seed=2)
    path = write_audio(tmp_path / "r.wav", x, rate, "wav24")
    audio, sr = load_audio(path)
    assert sr == rate and len(audio) == len(x)
    audio16, sr16 = load_audio(path, sr=16000)
    assert sr16 == 16000 and len(audio16) == resampled_length(len(x), rate, 16000)


def _librosa_soxr_hq(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """What ``librosa.resample(res_type="soxr_hq")`` computes (RVC's choice), without importing
    librosa (slow): soxr HQ, then the length fixed to ceil(n * ratio)."""
    import soxr

    y = soxr.resample(x, sr_in, sr_out, quality="soxr_hq")
    n = int(np.ceil(len(x) * sr_out / sr_in))
    return np.pad(y, (0, max(0, n - len(y))))[:n]


def test_resample_shapes_lengths_and_reference_parity() -> None:
    rng = np.random.default_rng(0)
    for n, sr_in, sr_out in [
        (16000, 16000, 40000),
        (44101, 44100, 16000),
        (999, 48000, 32000),
        (1, 8000, 48000),
    ]:
        x = rng.standard_normal(n).astype(np.float32) * 0.1
        y = resample(x, sr_in, sr_out)
        assert y.dtype == np.float32 and y.shape == (resampled_length(n, sr_in, sr_out),)
        ref = _librosa_soxr_hq(x, sr_in, sr_out)
        np.testing.assert_allclose(y, ref, atol=1e-6)
        both = resample(np.stack([x, -x]), sr_in, sr_out)
        assert both.shape == (2, y.shape[0])
        np.testing.assert_allclose(both[0], y, atol=1e-6)
        np.testing.assert_allclose(both[1], -y, atol=1e-6)
    same = np.ones(10, dtype=np.float32)
    assert resample(same, 16000, 16000) is same
    assert resample(np.zeros(0, np.float32), 16000, 48000).shape == (0,)
    # A tone keeps its frequency.
    t = np.arange(48000) / 48000
    tone = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    out = resample(tone, 48000, 16000)
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spectrum) * 16000 / len(out) - 1000) < 2


def test_save_wav_float_pcm16_flac_round_trip(tmp_path: Path, stereo: np.ndarray) -> None:
    p = save_audio(tmp_path / "f.wav", stereo, SR)
    assert sf.info(str(p)).subtype == "FLOAT"
    np.testing.assert_array_equal(load_audio(p, mono=False)[0], stereo)
    p16 = save_audio(tmp_path / "p.wav", stereo, SR, format="wav16")
    assert sf.info(str(p16)).subtype == "PCM_16"
    np.testing.assert_allclose(load_audio(p16, mono=False)[0], stereo, atol=1 / 32768 + 1e-6)
    pf = save_audio(tmp_path / "x.flac", stereo[0], SR)
    np.testing.assert_allclose(load_audio(pf)[0], stereo[0], atol=1e-5)
    # No temporary files are left beside the outputs.
    assert sorted(x.name for x in tmp_path.iterdir()) == ["f.wav", "p.wav", "x.flac"]


@pytest.mark.parametrize("rate", [44100, 40000, 32000])
def test_mp3_round_trip(tmp_path: Path, rate: int) -> None:
    x = voice_like(2.0, rate, seed=5)
    p = save_audio(tmp_path / "o.mp3", np.stack([x, x]), rate)
    info = probe_audio(p)
    assert info.format == "mp3" and info.channels == 2
    expect_rate = rate if rate != 40000 else 44100  # mp3 cannot carry 40 kHz
    assert info.sample_rate == expect_rate
    audio, sr = load_audio(p, sr=rate)
    assert sr == rate and abs(len(audio) - len(x)) < 0.01 * rate
    assert _corr(audio, x) > 0.97


def test_save_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(PersonaError) as err:
        save_audio(tmp_path / "o.xyz", np.zeros(10, np.float32), 16000)
    assert err.value.code == "format_invalid"
    assert not any(tmp_path.iterdir())


def test_failed_save_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "o.wav"
    with pytest.raises(ValueError):
        save_audio(target, np.zeros((2, 2, 2), np.float32), 16000)
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------------------------- bad input


def test_text_file_named_wav(tmp_path: Path) -> None:
    path = write_text_as_audio(tmp_path / "song.wav")
    for call in (probe_audio, load_audio):
        with pytest.raises(PersonaError) as err:
            call(path)
        assert err.value.code == "audio_unreadable"
        assert "song.wav" in err.value.message


def test_random_bytes_named_mp3(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp3"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(PersonaError) as err:
        load_audio(path)
    assert err.value.code in ("audio_unreadable", "audio_empty")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PersonaError) as err:
        load_audio(tmp_path / "nope.wav")
    assert err.value.code == "audio_unreadable"


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(PersonaError) as err:
        load_audio(path)
    assert err.value.code == "audio_empty"


def test_zero_frame_wav(tmp_path: Path) -> None:
    path = tmp_path / "zero.wav"
    sf.write(str(path), np.zeros((0, 1), np.float32), 16000, subtype="PCM_16")
    for call in (probe_audio, load_audio):
        with pytest.raises(PersonaError) as err:
            call(path)
        assert err.value.code == "audio_empty"


def test_truncated_wav_header(tmp_path: Path) -> None:
    full = write_voice(tmp_path, "full", seconds=1.0, sr=16000)
    path = tmp_path / "cut.wav"
    path.write_bytes(full.read_bytes()[:30])  # cut inside the header
    with pytest.raises(PersonaError) as err:
        load_audio(path)
    assert err.value.code in ("audio_unreadable", "audio_empty")


def test_truncated_wav_data_decodes_what_is_there(tmp_path: Path) -> None:
    full = write_voice(tmp_path, "full", seconds=1.0, sr=16000)
    path = tmp_path / "cut.wav"
    data = full.read_bytes()
    path.write_bytes(data[: 44 + 2 * 8000])  # header says 1 s, only 0.5 s present
    audio, sr = load_audio(path)
    assert sr == 16000 and 7000 <= len(audio) <= 8000


def test_truncated_mp3_and_m4a_do_not_traceback(tmp_path: Path) -> None:
    x = voice_like(2.0, SR, seed=1)
    for fmt in ("mp3", "m4a"):
        full = write_audio(tmp_path / f"full{SUFFIX[fmt]}", x, SR, fmt)
        cut = tmp_path / f"cut{SUFFIX[fmt]}"
        cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
        try:
            audio, _ = load_audio(cut)
        except PersonaError as exc:
            assert exc.code in ("audio_unreadable", "audio_empty")
        else:
            assert 0 < len(audio) <= len(x) + 4096


def test_silent_input(tmp_path: Path) -> None:
    path = write_silence(tmp_path / "quiet.wav")
    audio, _ = load_audio(path)
    with pytest.raises(PersonaError) as err:
        ensure_not_silent(audio, what="quiet.wav")
    assert err.value.code == "audio_silent" and "quiet.wav" in err.value.message
    with pytest.raises(PersonaError):
        ensure_not_silent(np.full(1000, 1e-5, np.float32))
    ensure_not_silent(voice_like(0.5, 16000))  # a real signal passes
    with pytest.raises(PersonaError) as err:
        ensure_not_silent(np.zeros(0, np.float32))
    assert err.value.code == "audio_empty"


def _wav_header(frames: int, sr: int = 8000, channels: int = 1, bits: int = 16) -> bytes:
    block = channels * bits // 8
    data_len = frames * block
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_len)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, sr, sr * block, block, bits)
        + b"data"
        + struct.pack("<I", data_len)
    )


def test_too_long_is_refused_from_the_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_voice(tmp_path, "long", seconds=3.0, sr=8000)
    with pytest.raises(PersonaError) as err:
        load_audio(path, max_seconds=2.0)
    assert err.value.code == "audio_too_long" and "3.0 s" in err.value.message
    # A header claiming hours of audio is refused without decoding anything.
    import persona.audio.io as io_mod

    def no_decode(*a, **k):
        raise AssertionError("decoded before checking the duration")

    monkeypatch.setattr(io_mod, "_decode_soundfile", no_decode)
    monkeypatch.setattr(io_mod, "_decode_av", no_decode)
    big = tmp_path / "huge.wav"
    frames = 8000 * 3600 * 3  # 3 h claimed by the header
    with big.open("wb") as f:
        f.write(_wav_header(frames))
        f.seek(44 + frames * 2 - 1)
        f.write(b"\0")  # sparse file: the size matches the header
    info = probe_audio(big)
    assert info.duration_s == pytest.approx(3 * 3600)
    with pytest.raises(PersonaError) as err:
        load_audio(big, max_seconds=20 * 60)
    assert err.value.code == "audio_too_long"


def test_too_long_m4a_via_pyav(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "l.m4a", voice_like(3.0, 16000), 16000, "m4a")
    with pytest.raises(PersonaError) as err:
        load_audio(path, max_seconds=1.0)
    assert err.value.code == "audio_too_long"


def test_nan_and_inf_samples(tmp_path: Path) -> None:
    x = voice_like(1.0, 16000, seed=4)
    few = x.copy()
    few[100:110] = np.nan
    few[200] = np.inf
    p = tmp_path / "few.wav"
    sf.write(str(p), few, 16000, subtype="FLOAT")
    audio, _ = load_audio(p)
    assert np.all(np.isfinite(audio)) and audio[105] == 0.0
    many = x.copy()
    many[::2] = np.nan
    p2 = tmp_path / "many.wav"
    sf.write(str(p2), many, 16000, subtype="FLOAT")
    with pytest.raises(PersonaError) as err:
        load_audio(p2)
    assert err.value.code == "audio_unreadable"


def test_hot_float_wav_is_scaled_into_range(tmp_path: Path) -> None:
    x = voice_like(0.5, 16000) * 6.0  # peak 3.0
    p = tmp_path / "hot.wav"
    sf.write(str(p), x, 16000, subtype="FLOAT")
    audio, _ = load_audio(p)
    assert np.max(np.abs(audio)) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(audio, x / 3.0, atol=1e-6)


def test_song_like_and_file_helpers(tmp_path: Path) -> None:
    mix, vocals, instrumental = song_like(2.0, 22050, seed=1)
    assert mix.shape == vocals.shape == instrumental.shape == (2, 44100)
    np.testing.assert_allclose(mix, vocals + instrumental, atol=1e-6)
    assert 0.5 < np.max(np.abs(mix)) <= 0.9 + 1e-6
    again, _, _ = song_like(2.0, 22050, seed=1)
    np.testing.assert_array_equal(mix, again)
    v = voice_like(3.0, 16000, seed=0)
    # Pauses exist (some 50 ms windows are silent) but most of it is voiced.
    frames = v[: len(v) // 800 * 800].reshape(-1, 800)
    rms = np.sqrt((frames**2).mean(axis=1))
    assert (rms < 1e-4).sum() >= 2 and (rms > 0.05).mean() > 0.5
    paths = write_song(tmp_path, seconds=1.0, sr=22050, fmt="mp3", stems=True)
    assert set(paths) == {"mix", "vocals", "instrumental"}
    for p in paths.values():
        assert probe_audio(p).channels == 2


def test_wav_with_unfinalised_header_is_read(tmp_path: Path) -> None:
    """A recorder that crashed leaves data sizes of 0 in the header; FFmpeg still reads it."""
    x = voice_like(1.0, 16000, seed=9)
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
    header = bytearray(_wav_header(0, sr=16000))
    path = tmp_path / "crashed.wav"
    path.write_bytes(bytes(header) + pcm)
    assert probe_audio(path).backend == "av"
    audio, sr = load_audio(path)
    assert sr == 16000 and abs(len(audio) - len(x)) < 100
    np.testing.assert_allclose(audio[: len(x)], x, atol=1e-3)
