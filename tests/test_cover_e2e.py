"""`persona cover` end to end on the real engines: tiny pymss separation + tiny RVC model/assets."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from persona.cli import main
from persona.separation.pipeline import unload_models
from persona.testing.separation import synthetic_song, write_model


@pytest.fixture
def home(settings, tmp_path):
    from persona.testing.home import write_fixture_model
    from persona.testing.training import write_training_assets

    write_training_assets(settings.assets, "40k", "tiny")
    write_model(settings.assets, "bs_roformer")
    pth = write_fixture_model(tmp_path / "voice" / "singer.pth")  # no .index beside it
    song = tmp_path / "song.wav"
    sf.write(str(song), synthetic_song(2.5, 44100)["mix"].T, 44100, subtype="PCM_16")
    unload_models()
    yield settings, pth, song
    unload_models()


def _args(settings):
    return ["--home", str(settings.home), "--assets", str(settings.assets), "--device", "cpu"]


def test_cli_cover_with_a_model_without_index(home, tmp_path, capsys):
    settings, pth, song = home
    out = tmp_path / "cover.mp3"
    code = main(
        [
            *_args(settings),
            "cover",
            "--model",
            str(pth),
            "--song",
            str(song),
            "--output",
            str(out),
            "--pitch",
            "auto",
            "--reverb",
            "0.2",
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    y, sr = sf.read(str(out), always_2d=True)
    assert sr == 44100 and y.shape[1] == 2 and abs(y.shape[0] - int(2.5 * 44100)) <= 2304
    assert np.isfinite(y).all() and np.abs(y).max() < 1.0
    assert str(out) in capsys.readouterr().out


def test_cli_bad_input_exits_2_and_writes_nothing(home, tmp_path, capsys):
    settings, pth, song = home
    out = tmp_path / "cover.wav"
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF nonsense")
    assert (
        main(
            [
                *_args(settings),
                "cover",
                "--model",
                str(pth),
                "--song",
                str(bad),
                "--output",
                str(out),
                "--quiet",
            ]
        )
        == 2
    )
    assert "audio" in capsys.readouterr().err
    assert (
        main(
            [
                *_args(settings),
                "cover",
                "--model",
                str(tmp_path / "none.pth"),
                "--song",
                str(song),
                "--output",
                str(out),
                "--quiet",
            ]
        )
        == 2
    )
    assert (
        main(
            [
                *_args(settings),
                "cover",
                "--model",
                str(pth),
                "--song",
                str(song),
                "--output",
                str(out),
                "--pitch",
                "99",
                "--quiet",
            ]
        )
        == 2
    )
    assert not out.exists()
