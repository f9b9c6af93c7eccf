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


def test_the_stand_in_cover_grows_the_part_the_route_serves(env, settings, monkeypatch):
    """The browser tests' stand-in cover (``persona.testing.jobs``) grows its playable part as a
    real cover does: piece by piece, each served as the song so far, then the finished file."""
    from persona.jobs import runner
    from persona.testing import jobs

    client, store, job_id = env
    monkeypatch.setattr(jobs, "FIXTURE_PIECE_S", 0.25)  # the 1 s song in four pieces
    monkeypatch.setattr(runner, "WRITE_EVERY_S", 0.0)  # every report written (no pauses here)
    served = []

    def sleep(_seconds):  # called before every step and piece: look at what is playable now
        job = store.get(job_id)
        if job["status"] == "running" and (job["metrics"] or {}).get("ready_frames"):
            r = client.get(f"/api/jobs/{job_id}/audio")
            assert r.status_code == 200 and r.headers["X-Persona-Preview"] == "s16le"
            served.append(sf.read(io.BytesIO(r.data), dtype="int16", always_2d=True))

    assert runner.run_job(settings, job_id, jobs.fixture_handlers(sleep=sleep)) == "succeeded"
    lengths = [audio.shape[0] for audio, _ in served]
    assert lengths == sorted(lengths) and len(set(lengths)) >= 4  # it grew piece by piece
    whole, sr = served[-1]
    assert whole.shape[1] == 2 and np.array_equal(whole[:, 0], whole[:, 1])  # mono song, both sides
    for audio, rate in served:
        assert rate == sr and np.array_equal(audio, whole[: audio.shape[0]])  # each a prefix
    r = client.get(f"/api/jobs/{job_id}/audio")
    assert r.status_code == 200 and "X-Persona-Preview" not in r.headers  # the finished cover now
    finished, finished_sr = sf.read(io.BytesIO(r.data), dtype="float32")  # the stand-in: the song
    assert finished_sr == sr and whole.shape[0] == finished.shape[0]
    assert np.abs(whole[:, 0] / 32767 - finished).max() < 2 / 32767  # the song, sample for sample
