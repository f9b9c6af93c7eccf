"""`persona evaluate`: conversion + Seed-VC-protocol metrics, with a stand-in conversion of known output."""

from __future__ import annotations

import json

import pytest
import soundfile as sf

from persona.cli import main
from persona.rvc import convert as conv
from persona.testing.audio import voice_like


@pytest.fixture
def vocal(tmp_path):
    path = tmp_path / "vocal.wav"
    sf.write(path, voice_like(6.0, 16000, f0=220.0, seed=5), 16000)
    return path


@pytest.fixture
def identity(monkeypatch):
    """The conversion gives its input back (so the melody is kept exactly)."""
    monkeypatch.setattr(
        conv, "convert_audio", lambda settings, model, audio, sr, options, *a, **k: (audio, sr)
    )


def test_json_report_with_known_answers(settings, vocal, tmp_path, identity, capsys):
    pth = tmp_path / "voice.pth"
    pth.write_bytes(b"never read by the stand-in")
    code = main(["--home", str(settings.home), "evaluate", "--model", str(pth), "--input", str(vocal),
                 "--voice", str(vocal), "--json"])  # fmt: skip
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    m = report["inputs"][0]["metrics"]
    assert m["f0_corr"] == pytest.approx(1.0, abs=1e-6) and m["f0_rmse_cents"] == pytest.approx(0, abs=1e-6)
    assert m["speaker_similarity"] == pytest.approx(1.0, abs=2e-3)
    assert 1.0 <= m["dnsmos_ovrl"] <= 5.0
    assert report["f0_estimator"] == "swiftf0" and report["anchors"]["speaker_similarity"] == 0.7264
    assert report["mean"]["f0_rmse_cents"] == m["f0_rmse_cents"]


def test_text_report_says_why_a_metric_is_unavailable(settings, vocal, tmp_path, identity, capsys):
    pth = tmp_path / "voice.pth"
    pth.write_bytes(b"x")
    code = main(["--home", str(settings.home), "evaluate", "--model", str(pth), "--input", str(vocal),
                 "--pitch", "12"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "speaker similarity   unavailable: no recordings of the target voice" in out
    assert "F0 RMSE (cents)      1200" in out  # asked for +12 semitones, got the input's pitch back
    assert "anchor (Seed-VC" in out


def test_a_missing_input_is_exit_2(settings, tmp_path, identity, capsys):
    code = main(
        ["--home", str(settings.home), "evaluate", "--model", "x.pth", "--input", str(tmp_path / "no.wav")]
    )
    assert code == 2 and "persona:" in capsys.readouterr().err
