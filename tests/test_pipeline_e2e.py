"""`persona convert` end to end on tiny random-weight models in RVC's formats: library model
name, assets folder, index, caching across calls, and the bad inputs of issue #2."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from persona.cli import main


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from persona.testing.content import write_rmvpe
    from persona.testing.index import random_features, write_rvc_index
    from persona.testing.pipeline import TINY_HUBERT_V2, write_hubert, write_small_model

    root = tmp_path_factory.mktemp("e2e")
    assets = root / "assets"
    write_hubert(assets / "hubert_base", TINY_HUBERT_V2)
    write_rmvpe(assets / "rmvpe.pt", tiny=True)
    pth = write_small_model(root / "src" / "singer.pth", version="v2", f0=True)
    added, trained = write_rvc_index(root / "src", random_features(300, 768), exp_name="singer")
    v1_added, _ = write_rvc_index(root / "v1", random_features(300, 256), exp_name="other")
    return {
        "root": root,
        "assets": assets,
        "pth": pth,
        "index": added,
        "trained": trained,
        "v1_index": v1_added,
    }


@pytest.fixture
def home(built, tmp_path):
    from persona.library import ModelLibrary
    from persona.settings import Settings

    settings = Settings(home=tmp_path / "home", assets_dir=built["assets"], device="cpu")
    ModelLibrary(settings).add("singer", built["pth"], built["index"], source="test")
    vocal = tmp_path / "vocal.wav"
    from persona.testing.pipeline import parity_input

    sf.write(vocal, parity_input(2.0), 16000)
    return settings, vocal


def _cli(settings, *args):
    return main(
        ["--home", str(settings.home), "--assets", str(settings.assets), "--device", "cpu", "convert", *args]
    )


def test_convert_library_model_to_mp3_and_wav(home, tmp_path, capsys):
    from persona.rvc import convert as conv

    settings, vocal = home
    conv.clear_cache()
    out = tmp_path / "out.mp3"
    assert (
        _cli(settings, "--model", "singer", "--input", str(vocal), "--output", str(out), "--pitch", "2") == 0
    )
    data, sr = sf.read(out)
    assert sr in (44100, 48000) and abs(len(data) / sr - 2.0) < 0.1 and np.abs(data).max() > 0.01
    voices = dict(conv._VOICES)
    wav = tmp_path / "out.wav"
    assert (
        _cli(
            settings,
            "--model",
            "singer",
            "--input",
            str(vocal),
            "--output",
            str(wav),
            "--f0-method",
            "pm",
            "--index-rate",
            "0.5",
            "--resample-sr",
            "48000",
        )
        == 0
    )
    data, sr = sf.read(wav)
    assert sr == 48000 and abs(len(data) - 96000) < 1500  # RVC drops ~20 ms (HuBERT frames)
    # the second call reused the loaded model and index
    assert dict(conv._VOICES) == voices and len(conv._INDEXES) == 1


def test_python_api_reports_progress(home):
    from persona.library import resolve_model_ref
    from persona.rvc.convert import convert_audio
    from persona.rvc.options import ConversionOptions

    settings, vocal = home
    x, _ = sf.read(vocal, dtype="float32")
    seen = []
    model = resolve_model_ref(settings, "singer")  # the engine takes the entry; names are the caller's
    out, sr = convert_audio(settings, model, x, 16000, ConversionOptions(f0_method="pm"),
                            lambda s, f, m="", **k: seen.append((s, f)))  # fmt: skip
    assert sr == 40000 and abs(len(out) - 80000) < 1200
    assert seen[-1] == ("convert", pytest.approx(1.0))


def _bad(settings, tmp_path, capsys, *args, code):
    out = tmp_path / "bad.wav"
    rc = _cli(settings, "--output", str(out), *args)
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert len(err.splitlines()) == 1 and f"[{code}]" in err, err
    assert not out.exists() and not list(tmp_path.glob(".bad.wav*"))
    return err


def test_bad_inputs_get_clear_errors(home, built, tmp_path, capsys):
    settings, vocal = home
    pth = str(built["pth"])
    err = _bad(settings, tmp_path, capsys, "--model", pth, "--index", str(built["v1_index"]), "--input", str(vocal),
               code="index_invalid")  # fmt: skip
    assert "256" in err and "768" in err
    err = _bad(settings, tmp_path, capsys, "--model", pth, "--index", str(built["trained"]), "--input", str(vocal),
               code="index_invalid")  # fmt: skip
    assert "no feature vectors" in err
    _bad(settings, tmp_path, capsys, "--model", "singer", "--input", str(vocal), "--pitch", "25",
         code="pitch_out_of_range")  # fmt: skip
    _bad(settings, tmp_path, capsys, "--model", "ghost", "--input", str(vocal), code="model_not_found")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a torch file at all")
    _bad(settings, tmp_path, capsys, "--model", str(junk), "--input", str(vocal), code="model_invalid")
    truncated = tmp_path / "trunc.pth"
    truncated.write_bytes(built["pth"].read_bytes()[:5000])
    _bad(settings, tmp_path, capsys, "--model", str(truncated), "--input", str(vocal), code="model_invalid")
    corrupt = tmp_path / "c.wav"
    corrupt.write_bytes(b"RIFF1234WAVEfmt \x10\x00\x00\x00" + b"\xff" * 64)
    _bad(settings, tmp_path, capsys, "--model", "singer", "--input", str(corrupt), code="audio_unreadable")
    empty = tmp_path / "e.wav"
    empty.write_bytes(b"")
    _bad(settings, tmp_path, capsys, "--model", "singer", "--input", str(empty), code="audio_empty")


def test_missing_assets_name_what_to_do(home, tmp_path, capsys):
    settings, vocal = home
    from persona.rvc import convert as conv

    conv.clear_cache()
    bare = settings.replace(assets_dir=tmp_path / "no_assets")
    rc = main(["--home", str(bare.home), "--assets", str(bare.assets), "--device", "cpu", "convert", "--model",
               "singer", "--input", str(vocal), "--output", str(tmp_path / "x.wav")])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and "asset_missing" in err and "persona assets" in err
    assert not (tmp_path / "x.wav").exists()
