"""The saves API on a laid-out training folder: ledger with preview URLs, previews with Range,
exporting a kept save (refused while a job uses the model, 404 for a save not kept)."""

from __future__ import annotations

import shutil
from urllib.parse import quote

import numpy as np
import pytest

from persona.audio.io import save_audio
from persona.library import ModelLibrary
from persona.testing.home import write_fixture_model
from persona.training import saves


@pytest.fixture
def app(settings, tmp_path, make_app):
    pth = write_fixture_model(tmp_path / "voice.pth")
    meta = {"training": {"exported_epoch": 2}, "voice_embedding": [0.0625] * 256}
    ModelLibrary(settings).add("목소리", pth, source="trained", metadata=meta)
    exp = settings.home / "training" / "목소리"
    ledger = saves.empty()
    ledger["previews"] = {"enabled": True, "reason": None, "seconds": 1.0}
    ledger["epochs"] = [{"epoch": 1, "loss_mel": 30.0}, {"epoch": 2, "loss_mel": 25.0}]
    for epoch, sim in ((1, 0.61), (2, 0.72)):
        (exp / "saves").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pth, exp / saves.model_file(epoch))
        (exp / "previews").mkdir(exist_ok=True)
        tone = 0.3 * np.sin(2 * np.pi * (200 + 100 * epoch) * np.arange(40000) / 40000)
        save_audio(exp / saves.preview_file(epoch), tone, 40000, format="wav16")
        metrics = {"speaker_similarity": sim, "f0_corr": None, "unavailable": {"f0_corr": "too few frames"}}
        ledger["saves"].append(
            {
                "epoch": epoch,
                "model": saves.model_file(epoch),
                "preview": saves.preview_file(epoch),
                "metrics": metrics,
            }
        )
    save_audio(exp / saves.PREVIEW_SOURCE, np.zeros(40000), 40000, format="wav16")
    ledger["choice"] = saves.choose(ledger["saves"])
    saves.write(exp, ledger)
    return make_app()


def test_the_ledger_lists_saves_with_preview_urls_and_the_choice(app):
    client = app.test_client()
    body = client.get("/api/models/목소리/saves").get_json()
    assert [s["epoch"] for s in body["saves"]] == [1, 2]
    assert body["saves"][1]["preview_url"] == f"/api/models/{quote('목소리')}/previews/2"
    assert body["saves"][0]["metrics"]["unavailable"]["f0_corr"] == "too few frames"
    assert body["choice"]["epoch"] == 2 and body["choice"]["code"] == "best_similarity"
    assert body["epochs"][1]["loss_mel"] == 25.0 and body["plateau"] is False
    assert body["source_url"] == f"/api/models/{quote('목소리')}/previews/source"
    assert client.get(body["saves"][1]["preview_url"]).status_code == 200


def test_a_job_exposes_its_training_and_previews_with_range(app):
    store = app.extensions["persona"].queue.store
    job = store.create("train", {"name": "목소리"}, model="목소리")
    client = app.test_client()
    body = client.get(f"/api/jobs/{job['id']}/training").get_json()
    assert body["saves"][0]["preview_url"] == f"/api/jobs/{job['id']}/previews/1"
    full = client.get(f"/api/jobs/{job['id']}/previews/1")
    assert full.status_code == 200 and full.mimetype == "audio/wav" and full.data[:4] == b"RIFF"
    part = client.get(f"/api/jobs/{job['id']}/previews/2", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.data) == 100
    assert part.headers["Content-Range"].startswith("bytes 0-99/")
    assert client.get(f"/api/jobs/{job['id']}/previews/source").status_code == 200
    missing = client.get(f"/api/jobs/{job['id']}/previews/7")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "preview_not_found"
    assert client.get(f"/api/jobs/{job['id']}/previews/x").status_code == 400


def test_exporting_a_kept_save_replaces_the_model_unless_a_job_uses_it(app, settings):
    store = app.extensions["persona"].queue.store
    client = app.test_client()
    job = store.create("train", {"name": "목소리"}, model="목소리")
    busy = client.post("/api/models/목소리/saves/1/export")
    assert busy.status_code == 409 and busy.get_json()["error"]["code"] == "model_in_use"
    token = store.claim(job["id"])
    assert store.finish(job["id"], token, "succeeded", result={})
    r = client.post("/api/models/목소리/saves/1/export")
    assert r.status_code == 200, r.get_json()
    model = r.get_json()
    assert model["training"]["exported_epoch"] == 1 and model["training"]["choice"]["code"] == "user_choice"
    assert model["quality"]["speaker_similarity"] == 0.61
    assert saves.read(settings.home / "training" / "목소리")["exported_epoch"] == 1
    # the voice the model was trained on stays with it (covers score similarity against it)
    assert ModelLibrary(settings).get("목소리").metadata["voice_embedding"] == [0.0625] * 256
    gone = client.post("/api/models/목소리/saves/9/export")
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "save_not_found"
