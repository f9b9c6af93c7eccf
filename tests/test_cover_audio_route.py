"""``GET /api/jobs/<id>/audio``: the playable part of a cover while it is made (Range), nothing
once it is stopped, and what a non-cover job or a cover with nothing ready yet answers."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from persona.library import ModelLibrary
from persona.server.api_cover_audio import preview_path
from persona.testing.home import write_fixture_model, write_fixture_song
from persona.testing.uploads import upload

RATE = 8000


@pytest.fixture
def env(settings, tmp_path, make_app):
    ModelLibrary(settings).add("보컬", write_fixture_model(tmp_path / "v.pth", version="v2"), source="upload")
    app = make_app(jobs_need_assets=False)  # no worker runs these jobs
    client = app.test_client()
    song = write_fixture_song(tmp_path / "s.wav", seconds=1.0)
    r = client.post(
        "/api/covers",
        data={"model": "보컬", "song": upload(song, "s.wav")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 202, r.get_json()
    job_id = r.get_json()["job_id"]
    store = app.extensions["persona"].queue.store
    return client, store, job_id


def _ready(store, job_id, token, settings, frames):
    pcm = (np.sin(np.arange(3 * RATE) / 10.0) * 8000).astype("<i2")
    pcm = np.stack([pcm, -pcm], axis=1)  # written ahead of what is reported
    path = preview_path(settings.jobs_dir, job_id, token)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pcm.tobytes())
    metrics = {"ready_frames": frames, "ready_rate": RATE, "ready_s": frames / RATE}
    assert store.report(job_id, token, stage="convert", progress=0.5, message="", eta_s=None, metrics=metrics)
    return pcm


def test_the_ready_part_is_served_as_a_wav_with_ranges(env, settings):
    client, store, job_id = env
    r = client.get(f"/api/jobs/{job_id}/audio")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "cover_not_playable"  # queued
    token = store.claim(job_id)
    r = client.get(f"/api/jobs/{job_id}/audio")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "cover_not_playable"  # nothing yet
    pcm = _ready(store, job_id, token, settings, 2 * RATE)
    r = client.get(f"/api/jobs/{job_id}/audio")
    assert r.status_code == 200 and r.headers["Accept-Ranges"] == "bytes"
    audio, sr = sf.read(io.BytesIO(r.data), dtype="int16", always_2d=True)
    assert sr == RATE and audio.shape == (2 * RATE, 2)  # only what was reported ready
    assert np.array_equal(audio, pcm[: 2 * RATE])
    r = client.get(f"/api/jobs/{job_id}/audio", headers={"Range": f"bytes={44 + 4 * RATE}-"})
    assert (
        r.status_code == 206
        and r.headers["Content-Range"] == f"bytes {44 + 4 * RATE}-{44 + 8 * RATE - 1}/{44 + 8 * RATE}"
    )
    assert r.data == pcm[RATE : 2 * RATE].tobytes()
    r = client.get(f"/api/jobs/{job_id}/audio", headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.data[:4] == b"RIFF" and len(r.data) == 10
    r = client.get(f"/api/jobs/{job_id}/audio", headers={"Range": f"bytes={44 + 8 * RATE}-"})
    assert r.status_code == 416
    # stopped: the pieces are discarded with the attempt, nothing is served as if finished
    assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 202
    store.finish(job_id, token, "cancelled")
    r = client.get(f"/api/jobs/{job_id}/audio")
    assert r.status_code == 404 and r.get_json()["error"]["params"]["status"] == "cancelled"


def test_only_cover_jobs_have_audio(env, settings):
    client, store, _ = env
    job = store.create("train", {"name": "x"})
    r = client.get(f"/api/jobs/{job['id']}/audio")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "job_no_audio"
    assert client.get("/api/jobs/nope/audio").status_code == 404
