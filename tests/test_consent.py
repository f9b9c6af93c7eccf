"""The consent gate's checks on real-sounding voices (festival) and on what is not speech."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from persona.audio.resample import resample
from persona.consent import challenge, record, speaker, speech
from persona.errors import PersonaError

LINES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "The box was thrown beside the parked truck. The hogs were fed chopped corn and garbage.",
]


def _festival(voice: str, text: str, tmp: Path) -> tuple[np.ndarray, int]:
    if shutil.which("text2wave") is None:
        pytest.fail("festival (text2wave) is missing: .ci/run installs it")
    out = tmp / f"{voice}.wav"
    subprocess.run(
        ["text2wave", "-eval", f"(voice_{voice})", "-o", str(out)], input=text.encode(), check=True
    )
    audio, sr = sf.read(out, dtype="float32")
    return audio, sr


def _clip16k(voice: str, tmp: Path) -> np.ndarray:
    audio, sr = _festival(voice, LINES[-1], tmp)
    return resample(audio, sr, 16000)


def _recordings(voice: str, tmp: Path) -> list[tuple[np.ndarray, int]]:
    return [_festival(voice, line, tmp) for line in LINES[:4]]


def test_read_speech_passes_the_speech_check(tmp_path):
    facts = speech.check_clip(_clip16k("kal_diphone", tmp_path), file="동의.webm")
    assert facts.speech_s >= speech.MIN_SPEECH_S


@pytest.mark.parametrize(
    "make, code",
    [
        (lambda t: np.zeros_like(t), "consent_silent"),
        (lambda t: 0.1 * np.random.default_rng(0).standard_normal(len(t)), "consent_not_speech"),
        (lambda t: sum(0.1 * np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0)), "consent_not_speech"),
        (lambda t: np.zeros(int(speech.MAX_CLIP_S * 16000) + 16000), "consent_too_long"),
    ],
)
def test_what_is_not_speech_is_refused_with_a_reason(make, code):
    t = np.arange(16000 * 6) / 16000
    with pytest.raises(PersonaError) as e:
        speech.check_clip(np.asarray(make(t), dtype=np.float32), file="동의.webm")
    assert e.value.code == code and e.value.params["file"] == "동의.webm"


def test_too_little_speech_is_too_short(tmp_path):
    with pytest.raises(PersonaError) as e:
        speech.check_clip(_clip16k("kal_diphone", tmp_path)[:16000], file="c.webm")
    assert e.value.code == "consent_too_short"


def test_the_same_voice_is_accepted_and_another_refused(tmp_path):
    recordings = _recordings("kal_diphone", tmp_path)
    same = speaker.verify(_clip16k("kal_diphone", tmp_path), recordings)
    assert same >= speaker.THRESHOLD
    with pytest.raises(PersonaError) as e:
        speaker.verify(_clip16k("cmu_us_slt_arctic_hts", tmp_path), recordings)
    assert e.value.code == "consent_voice_mismatch"
    assert e.value.params["similarity"] < speaker.THRESHOLD


def test_a_challenge_names_the_model_and_is_used_once(settings):
    c = challenge.issue(settings, "내목소리", owner="u1")
    assert "내목소리" in c.sentence and time.strftime("%Y") in c.sentence
    with pytest.raises(PersonaError):  # someone else's challenge answers like an unknown one
        challenge.take(settings, c.id, model_name="내목소리", owner="u2")
    c2 = challenge.issue(settings, "내목소리", owner="u1")
    assert challenge.take(settings, c2.id, model_name="내목소리", owner="u1").sentence == c2.sentence
    with pytest.raises(PersonaError) as e:  # a replay of the same consent
        challenge.take(settings, c2.id, model_name="내목소리", owner="u1")
    assert e.value.code == "consent_challenge_invalid"


def test_an_expired_or_malformed_challenge_is_refused(settings, monkeypatch):
    c = challenge.issue(settings, "a", owner=None)
    monkeypatch.setattr(challenge.time, "time", lambda: c.expires_at + 1)
    for cid in (c.id, "../../etc/passwd", "", "x" * 32):
        with pytest.raises(PersonaError) as e:
            challenge.take(settings, cid, model_name="a", owner=None)
        assert e.value.code == "consent_challenge_invalid"


def test_the_record_lives_in_the_model_folder(tmp_path):
    clip = tmp_path / "c.webm"
    clip.write_bytes(b"recorded")
    model_dir = tmp_path / "model"
    consent = {"sentence": "문장", "sha256": record.sha256_file(clip), "owner": "u1", "similarity": 0.91}
    rec = record.recorded(consent, clip.suffix)
    record.write(model_dir, rec, clip)
    assert (model_dir / "consent" / "clip.webm").read_bytes() == b"recorded"
    shown = record.public(record.read(model_dir))
    assert shown["status"] == "recorded" and shown["sentence"] == "문장" and "account" not in shown
    assert record.public(record.read(tmp_path / "none")) == {"status": "none"}


def test_a_clip_used_before_is_a_replay(settings):
    record.claim_clip(settings, "ab" * 32)
    with pytest.raises(PersonaError) as e:
        record.claim_clip(settings, "ab" * 32)
    assert e.value.code == "consent_replayed"
