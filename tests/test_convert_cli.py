"""persona.rvc.convert and `persona convert`: model resolution, files in/out, bad input, exit codes.

The conversion itself runs on stand-in models here (see test_pipeline.py); the parity tests run
the real models.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from test_pipeline import FakeContent, FakeVoice, fake_f0, tone

from persona import provenance
from persona.audio.io import load_audio
from persona.cli import main
from persona.errors import PersonaError
from persona.rvc import convert as conv
from persona.rvc.options import ConversionOptions
from persona.rvc.pipeline import Pipeline


@pytest.fixture
def fake_pipeline(monkeypatch):
    built = []

    def build(settings, model, options, **kwargs):
        built.append(model)
        return Pipeline(FakeVoice(tgt_sr=40000), FakeContent(), fake_f0)

    monkeypatch.setattr(conv, "build_pipeline", build)
    return built


@pytest.fixture
def vocal(tmp_path):
    path = tmp_path / "in.wav"
    sf.write(path, tone(2.0, sr=44100), 44100)
    return path


@pytest.fixture
def pth(tmp_path):
    path = tmp_path / "voice.pth"
    path.write_bytes(b"stand-in; the fake pipeline never reads it")
    return path


def test_convert_file_writes_wav_and_mp3(settings, fake_pipeline, vocal, pth, tmp_path):
    seen = []
    out = conv.convert_file(
        settings,
        pth,
        vocal,
        tmp_path / "out.wav",
        ConversionOptions(),
        lambda s, f, m="", **k: seen.append(f),
    )
    data, sr = sf.read(out)
    assert sr == 40000 and abs(len(data) - 80000) < 2000 and np.abs(data).max() > 0
    assert seen and seen[-1] == pytest.approx(1.0)
    mp3 = conv.convert_file(settings, str(pth), vocal, tmp_path / "out.mp3")
    assert mp3.stat().st_size > 1000
    for suffix in (".flac", ".ogg", ".m4a"):  # every download format a cover has (issue 25 item 8)
        written = conv.convert_file(settings, str(pth), vocal, tmp_path / f"out{suffix}")
        decoded, _ = load_audio(written, sr=16000)
        assert len(decoded) / 16000 == pytest.approx(2.0, abs=0.1) and np.abs(decoded).max() > 0
    with pytest.raises(PersonaError, match="output must end in") as refused:
        conv.convert_file(settings, str(pth), vocal, tmp_path / "out.aiff")
    assert refused.value.code == "format_invalid"
    for written in (out, mp3):  # a converted vocal carries signed credentials saying so
        manifest = provenance.read_credentials(written)
        cover = {x["label"]: x["data"] for x in manifest["assertions"]}["persona.cover"]
        assert manifest["validation_state"] == "Valid" and cover["kind"] == "converted_vocal"
    assert fake_pipeline[0].pth_path == pth and fake_pipeline[0].index_path is None


def test_library_names_resolve(settings, tmp_path, pth):
    from persona import library
    from persona.testing.home import write_fixture_index, write_fixture_model

    model = write_fixture_model(tmp_path / "m" / "singer.pth")
    index = write_fixture_index(tmp_path / "m")
    library.ModelLibrary(settings).add("singer", model, index, source="test")  # refused = a failure
    entry = library.resolve_model_ref(settings, "singer")  # names are looked up by the callers
    assert isinstance(entry, library.ModelEntry)
    assert library.resolve_model_ref(settings, str(pth)) == pth
    got = conv.resolve_model(entry)
    assert got.name == "singer" and got.pth_path.is_file() and got.index_path is not None
    other = tmp_path / "other.index"
    other.write_bytes(b"x")
    assert conv.resolve_model(entry, other).index_path == other
    with pytest.raises(PersonaError) as err:
        library.resolve_model_ref(settings, "nobody")
    assert err.value.code == "model_not_found"
    with pytest.raises(PersonaError) as err:  # the engine takes paths, never names
        conv.resolve_model("singer")
    assert err.value.code == "model_not_found"


def test_cli_success_and_flags(settings, fake_pipeline, vocal, pth, tmp_path, capsys):
    out = tmp_path / "o.wav"
    rc = main(
        [
            "--home",
            str(settings.home),
            "convert",
            "--model",
            str(pth),
            "--input",
            str(vocal),
            "--output",
            str(out),
            "--pitch",
            "-3",
            "--index-rate",
            "0.5",
            "--protect",
            "0.2",
            "--rms-mix-rate",
            "1",
            "--quiet",
        ]
    )
    assert rc == 0 and out.is_file()
    assert str(out) in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--pitch", "25"], "pitch"),
        (["--f0-method", "yin"], "f0"),
        (["--index-rate", "2"], "index_rate"),
        (["--protect", "0.9"], "protect"),
        (["--f0-unvoiced", "fill"], "f0_unvoiced"),
    ],
)
def test_cli_bad_options_exit_2(settings, fake_pipeline, vocal, pth, tmp_path, capsys, extra, needle):
    out = tmp_path / "o.wav"
    rc = main(
        [
            "--home",
            str(settings.home),
            "convert",
            "--model",
            str(pth),
            "--input",
            str(vocal),
            "--output",
            str(out),
            *extra,
        ]
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and needle in err
    assert not out.exists() and not fake_pipeline


def _run_bad(settings, tmp_path, capsys, model, inp, out_name="o.wav", extra=()):
    out = tmp_path / out_name
    rc = main(
        [
            "--home",
            str(settings.home),
            "convert",
            "--model",
            str(model),
            "--input",
            str(inp),
            "--output",
            str(out),
            *extra,
        ]
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert len(err.splitlines()) == 1
    assert list(tmp_path.glob("o.*")) == [] and list(tmp_path.glob(".o.*")) == []
    return err


def test_cli_bad_inputs_write_nothing(settings, fake_pipeline, vocal, pth, tmp_path, capsys):
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 3)
    assert "audio_unreadable" in _run_bad(settings, tmp_path, capsys, pth, corrupt)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    _run_bad(settings, tmp_path, capsys, pth, empty)
    text = tmp_path / "notes.mp3"
    text.write_text("hello, this is not audio\n" * 50)
    _run_bad(settings, tmp_path, capsys, pth, text)
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000, np.float32), 16000)
    assert "silent" in _run_bad(settings, tmp_path, capsys, pth, silent)
    assert "not found" in _run_bad(settings, tmp_path, capsys, tmp_path / "missing.pth", vocal)
    assert "model_not_found" in _run_bad(settings, tmp_path, capsys, "no_such_model", vocal)
    assert "index" in _run_bad(
        settings, tmp_path, capsys, pth, vocal, extra=("--index", str(tmp_path / "x.index"))
    )
    assert "format" in _run_bad(settings, tmp_path, capsys, pth, vocal, out_name="o.txt")
    assert not fake_pipeline  # nothing got as far as converting


def test_failure_during_conversion_writes_nothing(settings, monkeypatch, vocal, pth, tmp_path):
    class Boom:
        def convert(self, *a, **k):
            raise PersonaError("index_invalid", "boom")

    monkeypatch.setattr(conv, "build_pipeline", lambda *a, **k: Boom())
    with pytest.raises(PersonaError):
        conv.convert_file(settings, pth, vocal, tmp_path / "o.wav")
    assert list(tmp_path.glob("*o.wav*")) == []
