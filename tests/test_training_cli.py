"""`persona train` on the command line: a tiny run, and bad input as exit code 2 with one line."""

from __future__ import annotations

import pytest
import torch

from persona.cli import main
from persona.testing.audio import write_text_as_audio, write_voice
from persona.testing.training import write_recordings, write_training_assets


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def cli(settings, *args: str) -> int:
    return main(["--home", str(settings.home), "--assets", str(settings.assets), "--device", "cpu", *args])


def test_train_command_trains_and_reports(settings, tmp_path, capsys):
    write_training_assets(settings.assets, "40k", "tiny")
    files = write_recordings(tmp_path, count=2, seconds=6.0)
    rc = cli(
        settings, "train", "cli voice", *map(str, files), "--epochs", "1", "--batch-size", "2",
        "--f0-method", "pm", "--model-size", "tiny", "--no-quality", "--quiet",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0
    assert "cli voice: trained, 1/1 epochs" in out
    assert "added_IVF" in out and "voice: median" in out
    assert (settings.models_dir / "cli voice" / "model.pth").is_file()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--epochs", "0"], "bad_epochs"),
        (["--epochs", "1001"], "bad_epochs"),
        ([], "bad_epochs"),
    ],
)
def test_bad_epochs_exit_2(settings, tmp_path, capsys, args, code):
    f = write_voice(tmp_path, "v", seconds=1.0)
    assert cli(settings, "train", "name", str(f), *args) == 2
    err = capsys.readouterr().err
    assert f"[{code}]" in err and len(err.strip().splitlines()) == 1


def test_six_files_and_not_audio_exit_2(settings, tmp_path, capsys):
    files = [str(write_voice(tmp_path, f"v{i}", seconds=0.5)) for i in range(6)]
    assert cli(settings, "train", "six", *files, "--epochs", "1") == 2
    assert "[too_many_files]" in capsys.readouterr().err
    bad = write_text_as_audio(tmp_path / "song.mp3")
    assert cli(settings, "train", "bad", str(bad), "--epochs", "1") == 2
    assert "[audio_unreadable]" in capsys.readouterr().err


def test_path_separator_in_name_exit_2(settings, tmp_path, capsys):
    f = write_voice(tmp_path, "v", seconds=1.0)
    assert cli(settings, "train", "../evil", str(f), "--epochs", "1") == 2
    assert "[name_invalid]" in capsys.readouterr().err
