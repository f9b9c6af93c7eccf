"""The whole journey on the real engines: API (Flask test client) -> queue -> a real worker process
(``persona worker --tiny-models``) training a tiny voice model from fixture weights, then a cover
sung by that model, then its audio through the API."""

from __future__ import annotations

import signal

import pytest

from persona.jobs import JobStore
from persona.testing.home import (
    start_worker,
    stop_process,
    wait_for,
    write_fixture_assets,
    write_fixture_song,
)
from persona.testing.uploads import upload

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from persona.settings import Settings
    from persona.testing.training import write_recordings

    root = tmp_path_factory.mktemp("engines")
    settings = Settings(home=root / "home", assets_dir=root / "assets", device="cpu")
    write_fixture_assets(settings)
    recordings = write_recordings(root / "rec", count=2, seconds=7.0, f0=220.0)
    song = write_fixture_song(root / "song.wav", seconds=3.0, sr=44100)
    worker = start_worker(settings, "--tiny-models")
    yield settings, recordings, song
    stop_process(worker, signal.SIGKILL)


def _finished(store: JobStore, job_id: str):
    job = store.get(job_id)
    return job if job["status"] in ("succeeded", "failed", "cancelled") else None


def test_train_then_cover_on_real_engines(env, make_client):
    settings, recordings, song = env
    client = make_client(settings)
    store = JobStore(settings)
    files = [upload(p) for p in recordings]
    r = client.post(
        "/api/trainings",
        data={
            "name": "진짜 목소리",
            "epochs": "1",
            "batch_size": "2",
            "f0_method": "pm",
            "save_every": "1",
            "files": files,
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 202, r.get_json()
    train_id = r.get_json()["job_id"]
    stages = set()

    def done():
        stages.add(store.get(train_id)["stage"])
        return _finished(store, train_id)

    job = wait_for(done, timeout=600, every=0.2)
    assert job["status"] == "succeeded", job["error"]
    assert job["result"]["model_name"] == "진짜 목소리" and job["result"]["epochs_done"] == 1
    assert {"preprocess", "train"} & stages
    model = client.get("/api/models/진짜 목소리").get_json()
    assert model["source"] == "trained" and model["has_index"] and model["version"] == "v2"

    r = client.post(
        "/api/covers",
        data={
            "model": "진짜 목소리",
            "pitch": "12",
            "f0_method": "pm",
            "song": upload(song, "곡.wav"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 202, r.get_json()
    cover_id_job = r.get_json()["job_id"]
    job = wait_for(lambda: _finished(store, cover_id_job), timeout=600, every=0.2)
    assert job["status"] == "succeeded", job["error"]
    cover = client.get(f"/api/covers/{job['result']['cover_id']}").get_json()
    assert cover["model"] == "진짜 목소리" and cover["pitch"] == 12 and abs(cover["duration_s"] - 3.0) < 0.1
    audio = client.get(cover["audio_url"], headers={"Range": "bytes=0-3"})
    assert audio.status_code == 206 and audio.data == b"RIFF"
