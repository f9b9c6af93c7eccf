"""Previews per save on a tiny CPU training: the held-out slice is converted at every save, scored,
kept; the best save is exported; too little voice turns previews off with the reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from persona.library.trained import train_into_library
from persona.settings import Settings
from persona.testing.training import write_recordings, write_training_assets
from persona.training import TrainRequest
from persona.training import saves as ledger_of
from persona.training.trainer import experiment_dir


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("previews")
    write_training_assets(root / "assets", "40k", "tiny")
    files = write_recordings(root / "rec", count=2, seconds=10.0, f0=220.0)
    return Settings(home=root / "home", assets_dir=root / "assets", device="cpu"), files


@pytest.fixture(scope="module")
def trained(env):
    settings, files = env
    events = []
    request = TrainRequest(
        name="preview-voice",
        files=list(files),
        epochs=3,
        batch_size=2,
        f0_method="pm",
        save_every=1,
        model_size="tiny",
        min_voice_seconds=4.0,
        keep_saves=1,
        preview_metrics=("similarity", "f0"),
        quality_report=False,
    )
    result = train_into_library(settings, request, progress=lambda *a, **m: events.append((a, m)))
    return settings, result, events


def test_every_save_has_a_preview_of_the_held_out_slice_and_they_differ(trained):
    settings, result, _ = trained
    exp = experiment_dir(settings, "preview-voice")
    ledger = ledger_of.read(exp)
    assert ledger["previews"]["enabled"] and 8.0 <= ledger["previews"]["seconds"] <= 10.5
    assert [s["epoch"] for s in ledger["saves"]] == [1, 2, 3]
    audio = [sf.read(exp / s["preview"], dtype="float32")[0] for s in ledger["saves"]]
    source, sr = sf.read(exp / "preview_source.wav", dtype="float32")
    assert sr == 40000
    for a in audio:
        assert abs(len(a) - len(source)) < 0.05 * len(source)  # the slice, converted at the model rate
    assert not np.allclose(audio[0], audio[1]) and not np.allclose(audio[1], audio[2])
    for s in ledger["saves"]:
        m = s["metrics"]
        for key in ("speaker_similarity", "f0_corr", "f0_rmse_cents"):
            assert (m[key] is None) == (key in m["unavailable"]), key
        assert "dnsmos_ovrl" not in m  # not asked for
        assert np.isfinite(s["losses"]["loss_mel"])
    assert [e["epoch"] for e in ledger["epochs"]] == [1, 2, 3]


def test_the_slice_is_never_trained_on(trained):
    settings, _, _ = trained
    exp = experiment_dir(settings, "preview-voice")
    source, _ = sf.read(exp / "preview_source.wav", dtype="float32")
    gt = [sf.read(p, dtype="float32")[0] for p in sorted((exp / "0_gt_wavs").glob("*.wav"))]
    trained_seconds = sum(len(g) for g in gt) / 40000
    assert trained_seconds > 4.0
    # No training piece holds a stretch of the held-out slice: pieces are only rescaled copies of
    # the recordings, so a shared stretch would correlate (normalised) at 1.
    probe = source[len(source) // 2 : len(source) // 2 + 4000].astype(np.float64)
    norm_p = np.sqrt(probe @ probe)
    for g in gt:
        g = g.astype(np.float64)
        if len(g) < len(probe):
            continue
        energy = np.sqrt(np.convolve(g**2, np.ones(len(probe)), mode="valid")) + 1e-12
        ncc = np.correlate(g, probe, mode="valid") / (energy * norm_p)
        assert ncc.max() < 0.99


def test_the_best_save_is_exported_and_bounded_files_are_kept(trained):
    from persona.library import ModelLibrary

    settings, result, events = trained
    exp = experiment_dir(settings, "preview-voice")
    ledger = ledger_of.read(exp)
    choice = ledger["choice"]
    assert choice["epoch"] in (1, 2, 3)
    kept = sorted(p.name for p in (exp / "saves").iterdir())
    assert len(kept) <= 2 and f"e{ledger['saves'][-1]['epoch']:04d}.pth" in kept
    entry = ModelLibrary(settings).get("preview-voice")
    training = entry.metadata["training"]
    if choice["code"] in ("best_similarity", "best_guarded"):
        assert training["exported_epoch"] == choice["epoch"]
        kept_file = exp / ledger_of.model_file(choice["epoch"])
        assert kept_file.read_bytes() == Path(entry.pth_path).read_bytes()
    assert training["choice"] == choice and training["previews"]["enabled"]
    assert result.saves["choice"] == choice and len(result.saves["saves"]) == 3
    saved_events = [m for (a, m) in events if "saved_epoch" in m]
    assert [m["saved_epoch"] for m in saved_events] == [1, 2, 3]
    assert all("save_metrics" in m and "best_epoch" in m and "plateau" in m for m in saved_events)


def test_a_save_is_priced_before_the_loop_for_the_clock(trained):
    """The metric models are loaded and timed on a few seconds of the slice before the first
    step: the clock prices the first save from these facts (persona.training.clock.FACTS)."""
    _, _, events = trained
    at = next(i for i, (a, m) in enumerate(events) if "scoring_s" in m)
    first_step = next(i for i, (a, m) in enumerate(events) if m.get("step") == 1)
    facts = events[at][1]
    assert at < first_step and events[at][0][0] == "train"
    assert facts["previews"] is True and facts["report"] is False and 8.0 <= facts["slice_seconds"] <= 10.5
    assert facts["scoring_s"] > 0  # similarity and F0 are scored
    assert facts["voice_embed_s"] == 0  # the voice was embedded before the loop, not at the first save
    assert facts["voice_seconds"] > 4.0
    first = events[first_step][1]
    assert first["eval_s"] > 0 and first["eval_audio_s"] > 0  # the synthesizer, timed by the loop


def test_too_little_voice_trains_without_previews_and_says_why(env, tmp_path):
    settings, _ = env
    files = write_recordings(tmp_path, count=1, seconds=7.0, f0=220.0)
    request = TrainRequest(
        name="short-voice",
        files=files,
        epochs=1,
        batch_size=2,
        f0_method="pm",
        model_size="tiny",
        min_voice_seconds=4.0,
        quality_report=False,
    )
    result = train_into_library(settings, request)
    assert result.epochs_done == 1
    previews = result.saves["previews"]
    assert previews["enabled"] is False and "previews are off" in previews["reason"]
    ledger = ledger_of.read(experiment_dir(settings, "short-voice"))
    assert [s["preview"] for s in ledger["saves"]] == [None]
