"""Training end to end on CPU: a tiny configuration, synthetic voice, pretrained base from the
assets folder; stop mid-run, resume, export in RVC's format, index, library, voice profile."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from persona.errors import PersonaError
from persona.library.trained import train_into_library
from persona.progress import CancelToken
from persona.rvc import train_checkpoint, voice_model
from persona.settings import Settings
from persona.testing.training import write_recordings, write_training_assets
from persona.training import TrainRequest
from persona.training.trainer import experiment_dir


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One intra-op thread: on a busy 2-core machine, more threads make tiny nets far slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> tuple[Settings, list[Path]]:
    root = tmp_path_factory.mktemp("train")
    write_training_assets(root / "assets", "40k", "tiny")
    files = write_recordings(root / "rec", count=2, seconds=7.0, f0=220.0)
    return Settings(home=root / "home", assets_dir=root / "assets", device="cpu"), files


def request(name: str, files, **kw) -> TrainRequest:
    base = dict(epochs=2, batch_size=2, f0_method="pm", save_every=1, model_size="tiny")
    base.update(kw)
    return TrainRequest(name=name, files=list(files), **base)


@pytest.fixture(scope="module")
def trained(env):
    settings, files = env
    events = []
    result = train_into_library(
        settings, request("첫 목소리", files), progress=lambda *a, **m: events.append((a, m))
    )
    return settings, result, events


def test_two_epochs_train_with_finite_losses_and_falling_mel_loss(trained):
    _, result, _ = trained
    assert result.epochs_done == 2 and not result.stopped
    history = result.metrics["history"]
    assert [h["epoch"] for h in history] == [1, 2]
    for h in history:
        for k in ("loss_disc", "loss_gen", "loss_fm", "loss_mel", "loss_kl"):
            assert np.isfinite(h[k]), k
    # The mel loss on a fixed batch (fixed noise and slice) falls epoch by epoch.
    mels = [result.metrics["initial_eval_mel"]] + [h["eval_mel"] for h in history]
    assert mels[0] > mels[1] > mels[2]
    assert result.warnings == []


def test_progress_reports_epoch_step_losses_and_eta(trained):
    _, _, events = trained
    train_events = [m for (a, m) in events if a[0] == "train" and "global_step" in m]
    assert train_events and all("loss_mel" in m for m in train_events)
    last = train_events[-1]
    assert last["epoch"] == 2 and last["epochs"] == 2 and last["step"] >= 1
    assert last["eta_s"] is not None and last["eta_s"] >= 0
    epoch_events = [m for (a, m) in events if m.get("epoch_done")]
    assert [m["epoch"] for m in epoch_events] == [1, 2] and "eval_mel" in epoch_events[-1]
    fractions = [a[1] for (a, _) in events]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)


def test_export_is_rvc_small_model_format(trained):
    from persona.training.trainer import experiment_dir

    settings, result, _ = trained
    exp = experiment_dir(settings, result.model_name)
    ckpt = torch.load(result.model_path, map_location="cpu", weights_only=True)
    assert set(ckpt) == {"weight", "config", "info", "sr", "f0", "version", "persona"}
    # The classic convention by default, recorded (issue 9); the training f0 keeps 0 Hz frames.
    assert ckpt["persona"]["f0_unvoiced"] == "zero" and ckpt["persona"]["trainer"].startswith("persona")
    nsf = sorted((exp / "2b-f0nsf").glob("*.npy"))
    f0 = np.concatenate([np.load(p) for p in nsf])
    assert (f0 == 0).any() and (f0 > 0).any()
    coarse = np.concatenate([np.load(p) for p in sorted((exp / "2a_f0").glob("*.npy"))])
    assert ((coarse == 1) == (f0 == 0)).all()
    assert ckpt["sr"] == "40k" and ckpt["f0"] == 1 and ckpt["version"] == "v2" and ckpt["info"] == "2epoch"
    assert len(ckpt["config"]) == 18 and ckpt["config"][-1] == 40000 and ckpt["config"][0] == 1025
    assert all(v.dtype == torch.float16 for v in ckpt["weight"].values())
    assert not any("enc_q" in k for k in ckpt["weight"])


def test_model_is_in_the_library_with_index_profile_and_quality(trained):
    from persona.library import ModelLibrary

    settings, result, _ = trained
    entry = ModelLibrary(settings).get("첫 목소리")
    assert entry.metadata["source"] == "trained"
    assert entry.index_path is not None
    assert re.fullmatch(r"added_IVF\d+_Flat_nprobe_1_첫 목소리_v2\.index", Path(entry.index_path).name)
    profile = entry.metadata["voice_profile"]
    assert 150 < profile["p5_hz"] <= profile["median_hz"] <= profile["p95_hz"] < 330
    assert entry.metadata["training"]["epochs_done"] == 2
    assert entry.metadata["training"]["f0_unvoiced"] == "zero" and entry.to_dict()["f0_unvoiced"] == "zero"
    quality = entry.metadata["quality"]
    assert quality.get("error") is None, quality  # the report ran: its figures are checked, always
    assert -1.0 <= quality["speaker_similarity"] <= 1.0
    assert quality["held_out_seconds"] > 0


def test_export_loads_in_the_engine_and_converts(trained):
    from persona.library import resolve_model_ref
    from persona.rvc.convert import convert_audio
    from persona.rvc.options import ConversionOptions
    from persona.testing.audio import voice_like

    settings, result, _ = trained
    vm = voice_model.load_voice_model(result.model_path)
    assert vm.tgt_sr == 40000 and vm.f0 and vm.version == "v2" and vm.f0_unvoiced == "zero"
    audio, sr = convert_audio(
        settings,
        resolve_model_ref(settings, result.model_name),
        voice_like(2.0, 16000),
        16000,
        ConversionOptions(f0_method="pm"),
    )
    assert sr == 40000 and len(audio) > 0 and np.isfinite(audio).all()


def test_stop_mid_run_exports_a_usable_model_and_resume_continues(env):
    settings, files = env
    token = CancelToken()
    steps = []

    def progress(stage, fraction, message="", **m):
        if stage == "train" and "global_step" in m:
            steps.append(m["global_step"])
            if m["epoch"] == 2:
                token.cancel()  # "Stop" pressed during the second epoch

    stopped = train_into_library(
        settings, request("stop-me", files, epochs=3), progress=progress, cancel=token
    )
    assert stopped.stopped and stopped.epochs_done == 1
    assert stopped.model_path.is_file()
    ckpt = train_checkpoint.load_pair(experiment_dir(settings, "stop-me"))
    # The stop goes back to the epoch-1 save: the step run in epoch 2 is neither saved nor exported.
    assert ckpt is not None and ckpt.epoch == 1 and ckpt.global_step < steps[-1]
    info = torch.load(stopped.model_path, map_location="cpu", weights_only=True)["info"]
    assert info == "1epoch"

    resumed = train_into_library(settings, TrainRequest(name="stop-me", epochs=3, resume=True, batch_size=2))
    assert not resumed.stopped and resumed.epochs_done == 3
    assert [h["epoch"] for h in resumed.metrics["history"]] == [2, 3]
    assert resumed.metrics["global_step"] > steps[-1]
    info = torch.load(resumed.model_path, map_location="cpu", weights_only=True)["info"]
    assert info == "3epoch"


def test_a_crash_while_saving_keeps_the_last_good_checkpoint(env, tmp_path, monkeypatch):
    g = torch.nn.Linear(2, 2)
    d = torch.nn.Linear(2, 1)
    og, od = torch.optim.AdamW(g.parameters()), torch.optim.AdamW(d.parameters())
    train_checkpoint.save_pair(tmp_path, g, d, og, od, epoch=4, global_step=40)
    real_save = torch.save

    def crash(obj, f, *a, **k):
        real_save(obj, f, *a, **k)
        raise OSError("disk full")  # dies after writing the temporary file

    monkeypatch.setattr(torch, "save", crash)
    with torch.no_grad():
        g.weight.add_(1.0)
    with pytest.raises(OSError):
        train_checkpoint.save_pair(tmp_path, g, d, og, od, epoch=5, global_step=50)
    monkeypatch.setattr(torch, "save", real_save)
    loaded = train_checkpoint.load_pair(tmp_path)
    assert loaded.epoch == 4 and loaded.global_step == 40
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_existing_name_is_refused_unless_resuming(trained):
    settings, _, _ = trained
    with pytest.raises(PersonaError) as e:
        train_into_library(settings, request("첫 목소리", ["x.wav"]))
    assert e.value.code == "model_exists"


def test_missing_pretrained_base_is_an_error_and_scratch_warns(env, tmp_path):
    settings, files = env
    bare = settings.replace(home=tmp_path / "h", assets_dir=tmp_path / "a")
    write_training_assets(bare.assets, "40k", "tiny")
    for p in (bare.assets / "pretrained_v2").iterdir():
        p.unlink()
    with pytest.raises(PersonaError) as e:
        train_into_library(bare, request("scratch", files, epochs=1, quality_report=False))
    assert e.value.code == "asset_missing" and "scratch" in e.value.message
    result = train_into_library(
        bare, request("scratch", files, epochs=1, quality_report=False, allow_scratch=True)
    )
    assert result.epochs_done == 1 and "FROM SCRATCH" in result.warnings[0]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"name": ""}, "name_invalid"),
        ({"name": "x" * 200}, "name_invalid"),
        ({"name": "a/b"}, "name_invalid"),
        ({"name": "..\\evil"}, "name_invalid"),
        ({"epochs": 0}, "bad_epochs"),
        ({"epochs": 1001}, "bad_epochs"),
        ({"epochs": "10"}, "bad_epochs"),
        ({"batch_size": 0}, "bad_batch_size"),
        ({"save_every": 0}, "bad_save_every"),
        ({"sample_rate": "44k"}, "bad_sample_rate"),
        ({"f0_method": "magic"}, "f0_method_invalid"),
        ({"files": []}, "no_files"),
    ],
)
def test_bad_requests_are_refused(changes, code):
    req = TrainRequest(name="ok", files=["a.wav"], epochs=10)
    for k, v in changes.items():
        setattr(req, k, v)
    with pytest.raises(PersonaError) as e:
        req.validate()
    assert e.value.code == code


def test_korean_names_and_numeric_rates_are_welcome():
    req = TrainRequest(name="  내 목소리 ", files=["a.wav"], epochs=1000, sample_rate=48000).validate()
    assert req.name == "내 목소리" and req.sample_rate == "48k"


def test_resume_without_a_checkpoint_is_refused(settings):
    with pytest.raises(PersonaError) as e:
        train_into_library(settings, TrainRequest(name="never", epochs=2, resume=True))
    assert e.value.code == "nothing_to_resume"


def test_stop_before_training_starts_is_a_plain_cancel(env, tmp_path):
    from persona.errors import Cancelled
    from persona.library import ModelLibrary

    settings, files = env
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        train_into_library(settings, request("early-stop", files), cancel=token)
    assert not ModelLibrary(settings).exists("early-stop")


@pytest.mark.parametrize("stage", ["preprocess", "features"])
def test_stop_during_preparation_stops_there_and_keeps_nothing(env, stage):
    from persona.errors import Cancelled
    from persona.library import ModelLibrary

    settings, files = env
    token = CancelToken()
    seen = []

    def progress(st, fraction, message="", **m):
        seen.append(st)
        if st == stage:
            token.cancel()

    with pytest.raises(Cancelled) as e:
        train_into_library(settings, request(f"stop-{stage}", files), progress=progress, cancel=token)
    assert e.value.params == {"saved": False}
    assert "train" not in seen and "export" not in seen  # no training step, no export after Stop
    assert not ModelLibrary(settings).exists(f"stop-{stage}")


def test_stop_in_the_first_epoch_keeps_no_half_model(env):
    from persona.errors import Cancelled
    from persona.library import ModelLibrary

    settings, files = env
    token = CancelToken()

    def progress(stage, fraction, message="", **m):
        if stage == "train" and m.get("global_step"):
            token.cancel()

    with pytest.raises(Cancelled) as e:
        train_into_library(settings, request("half", files, epochs=3), progress=progress, cancel=token)
    assert e.value.params["saved"] is False
    assert not ModelLibrary(settings).exists("half")
    assert train_checkpoint.load_pair(experiment_dir(settings, "half")) is None
