"""Preprocessing of training recordings: RVC's slicer and segmenting, and every bad-input error."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from persona.errors import PersonaError
from persona.testing.audio import write_silence, write_text_as_audio, write_voice
from persona.training.preprocess import (
    GT_DIR,
    WAV16K_DIR,
    check_inputs,
    high_pass,
    normalise,
    preprocess,
    split_chunk,
)
from persona.training.slicer import Slicer, frame_rms

SR = 40000


def tone(seconds: float, sr: int = SR, f: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * f * t)).astype(np.float32)


def test_frame_rms_matches_a_direct_computation():
    x = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    rms = frame_rms(x, 64, 16)
    padded = np.pad(x.astype(np.float64), 32)
    assert len(rms) == 1 + 1000 // 16
    np.testing.assert_allclose(rms[5], np.sqrt(np.mean(padded[80:144] ** 2)))


def test_slicer_cuts_on_a_long_silence_and_keeps_short_pauses():
    gap = np.zeros(int(1.0 * SR), dtype=np.float32)
    short = np.zeros(int(0.2 * SR), dtype=np.float32)
    audio = np.concatenate([tone(2.0), short, tone(1.0), gap, tone(2.0)])
    chunks = Slicer(SR).slice(audio)
    assert len(chunks) == 2
    # The first chunk holds both tones and the short pause; at most 0.5 s of silence is kept per side.
    assert 3.2 <= len(chunks[0]) / SR <= 3.2 + 0.5 + 0.02
    assert 2.0 <= len(chunks[1]) / SR <= 2.0 + 0.5 + 0.02


def test_slicer_returns_everything_when_there_is_no_silence():
    audio = tone(3.0)
    chunks = Slicer(SR).slice(audio)
    assert len(chunks) == 1 and len(chunks[0]) == len(audio)


def test_split_chunk_makes_3_7_second_pieces_with_0_3_second_overlap():
    chunk = np.arange(int(10.0 * SR), dtype=np.float32)
    pieces = split_chunk(chunk, SR)
    assert [round(len(p) / SR, 2) for p in pieces] == [3.7, 3.7, 3.2]
    assert pieces[1][0] == chunk[int(3.4 * SR)]  # starts 0.3 s before the previous piece ends
    assert pieces[-1][-1] == chunk[-1]


def test_normalise_follows_rvc_and_rejects_broken_pieces():
    x = np.array([0.0, 0.2, -0.4], dtype=np.float32)
    np.testing.assert_allclose(normalise(x), x / 0.4 * 0.9 * 0.75 + 0.25 * x, rtol=1e-6)
    assert normalise(np.zeros(10, dtype=np.float32)) is None
    assert normalise(np.array([3.0], dtype=np.float32)) is None
    assert normalise(np.array([np.nan, 0.1], dtype=np.float32)) is None


def test_high_pass_removes_rumble():
    rumble = tone(2.0, f=20.0)
    assert np.abs(high_pass(rumble, SR)[SR:]).max() < 0.05


def test_preprocess_writes_rvc_segments_at_both_rates(settings, tmp_path):
    f = write_voice(tmp_path, "take", seconds=12.0, sr=44100)
    result = preprocess(settings, [f], tmp_path / "exp", SR)
    assert [round(s.seconds, 1) for s in result.segments] == [3.7, 3.7, 3.7, 1.8]
    assert result.voice_seconds == pytest.approx(12.0, abs=0.5)
    seg = result.segments[0]
    audio, sr = sf.read(seg.gt_path)
    assert sr == SR and sf.info(seg.gt_path).subtype == "FLOAT"
    assert np.abs(audio).max() <= 0.9 + 1e-6
    a16, sr16 = sf.read(seg.wav16k_path)
    assert sr16 == 16000 and abs(len(a16) - len(audio) * 16000 / SR) <= 1
    assert seg.gt_path.parent.name == GT_DIR and seg.wav16k_path.parent.name == WAV16K_DIR
    assert seg.stem == "0_0"


def test_six_files_are_refused(settings, tmp_path):
    files = [write_voice(tmp_path, f"v{i}", seconds=0.5) for i in range(6)]
    with pytest.raises(PersonaError) as e:
        check_inputs(settings, files)
    assert e.value.code == "too_many_files"


def test_no_files_and_missing_file(settings, tmp_path):
    with pytest.raises(PersonaError) as e:
        check_inputs(settings, [])
    assert e.value.code == "no_files"
    with pytest.raises(PersonaError) as e:
        check_inputs(settings, [tmp_path / "nope.wav"])
    assert e.value.code == "file_not_found"


def test_a_file_that_is_not_audio_is_named_in_the_error(settings, tmp_path):
    good = write_voice(tmp_path, "good", seconds=12.0)
    bad = write_text_as_audio(tmp_path / "notes.mp3")
    with pytest.raises(PersonaError) as e:
        preprocess(settings, [good, bad], tmp_path / "exp", SR)
    assert e.value.code == "audio_unreadable"
    assert "notes.mp3" in e.value.message


def test_only_silence_is_refused(settings, tmp_path):
    f = write_silence(tmp_path / "quiet.wav", seconds=15.0)
    with pytest.raises(PersonaError) as e:
        preprocess(settings, [f], tmp_path / "exp", SR)
    assert e.value.code == "no_voice"


def test_too_little_voice_is_refused(settings, tmp_path):
    f = write_voice(tmp_path, "short", seconds=5.0)
    with pytest.raises(PersonaError) as e:
        preprocess(settings, [f], tmp_path / "exp", SR)
    assert e.value.code == "not_enough_voice"
    assert "10" in e.value.message


def test_over_the_total_duration_limit_is_refused(settings, tmp_path):
    limited = settings.replace(max_training_total_seconds=20.0)
    files = [write_voice(tmp_path, f"v{i}", seconds=12.0, seed=i) for i in range(2)]
    with pytest.raises(PersonaError) as e:
        preprocess(limited, files, tmp_path / "exp", SR)
    assert e.value.code == "training_audio_too_long"


def test_a_file_too_large_in_bytes_is_refused(settings, tmp_path):
    f = write_voice(tmp_path, "v", seconds=2.0)
    with pytest.raises(PersonaError) as e:
        check_inputs(settings.replace(max_training_file_bytes=1000), [f])
    assert e.value.code == "file_too_large"


def test_mp3_and_several_files_are_decoded_and_numbered_per_file(settings, tmp_path):
    a = write_voice(tmp_path, "a", seconds=6.0, fmt="mp3", seed=1)
    b = write_voice(tmp_path, "b", seconds=6.0, sr=48000, seed=2)
    result = preprocess(settings, [a, b], tmp_path / "exp", 32000)
    stems = [s.stem for s in result.segments]
    assert stems[0] == "0_0" and any(s.startswith("1_") for s in stems)
    assert result.voice_seconds > 10.0
    assert sf.info(result.segments[0].gt_path).samplerate == 32000
