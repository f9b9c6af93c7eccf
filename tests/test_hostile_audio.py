"""Audio cannot explode in memory or fail late (issue 24 items 2 and 6): a file whose channels x
rate x duration is beyond what Persona decodes is refused at upload from its header; decoding
goes block by block, so its peak memory is the output plus one block (measured in a child
process, a memory assertion); a 0.1 s song or recording and NaN-filled audio are refused at
upload naming the person's file; a worker killed by the kernel for memory is reported as
``out_of_memory``, not as a restart."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from persona.audio.io import load_audio
from persona.errors import PersonaError
from persona.jobs import JobQueue, oom
from persona.jobs.recovery import recover
from persona.library import ModelLibrary
from persona.testing.home import write_fixture_model
from persona.testing.uploads import upload

DEAD_PID = 2**22 + 12345  # above pid_max: never alive


def _write_blocks(path: Path, *, channels: int, rate: int, seconds: float, value: float = 0.1) -> Path:
    """A float WAV written block by block (the test itself never holds it whole)."""
    rng = np.random.default_rng(0)
    with sf.SoundFile(str(path), "w", rate, channels, subtype="FLOAT", format="WAV") as f:
        left = int(rate * seconds)
        while left:
            k = min(left, 1 << 16)
            f.write((rng.standard_normal((k, channels)) * value).astype(np.float32))
            left -= k
    return path


def _flac(seconds: float, *, channels: int = 1, rate: int = 16000, fill: float = 0.2) -> bytes:
    buf = io.BytesIO()
    t = np.arange(int(rate * seconds)) / rate
    tone = (fill * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    sf.write(buf, np.repeat(tone[:, None], channels, axis=1), rate, format="FLAC")
    return buf.getvalue()


def _wav(data: np.ndarray, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, data.astype(np.float32), rate, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def _cover(client, song: bytes, filename: str):
    return client.post(
        "/api/covers",
        data={"model": "목소리", "song": upload(song, filename)},
        content_type="multipart/form-data",
    )


@pytest.fixture
def with_model(settings, tmp_path):
    ModelLibrary(settings).add("목소리", write_fixture_model(tmp_path / "m.pth"), source="upload")
    return settings


def _nothing_queued(settings) -> bool:
    return JobQueue(settings).store.list(limit=10) == []


def test_a_dense_song_is_refused_from_its_header(with_model, settings, make_client):
    """8 channels at 384 kHz: more samples than the song limit of 96 kHz stereo allows (the
    limit set to 1 minute here, so the file can be 8 s instead of 5 minutes)."""
    client = make_client(max_song_seconds=60.0)
    body = _flac(8.0, channels=8, rate=384_000, fill=0.0)  # silence: a small file
    r = _cover(client, body, "dense.flac")
    error = r.get_json()["error"]
    assert r.status_code == 413 and error["code"] == "audio_too_dense", error
    assert error["params"]["channels"] == 8 and error["params"]["sample_rate"] == 384_000
    assert error["params"]["file"] == "dense.flac" and "01.flac" not in error["message"]
    assert _nothing_queued(settings)


def test_decoding_a_wide_fast_file_costs_its_output_not_its_input(tmp_path):
    """An accepted 8-channel 192 kHz file (61 MB of float samples) decoded to 16 kHz mono: the
    decoder's peak resident growth stays far below the input's size (it was 3x the input)."""
    path = _write_blocks(tmp_path / "wide.wav", channels=8, rate=192_000, seconds=10.0)
    code = (
        "import json, resource, sys\n"
        "from persona.audio.io import load_audio\n"
        "import numpy, soxr, soundfile\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "audio, sr = load_audio(sys.argv[1], sr=16000, mono=True, max_seconds=600)\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'growth_mb': (after - before) / 1024, 'n': len(audio), 'sr': sr}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    input_mb = 8 * 192_000 * 10 * 4 / 2**20
    assert got["n"] == 160_000 and got["sr"] == 16000
    assert got["growth_mb"] < 40 < input_mb, got


def test_blockwise_decoding_matches_decoding_at_once(tmp_path):
    """Down-mixing and resampling in blocks gives the samples of the one-call path."""
    from persona.audio.resample import resample

    path = _write_blocks(tmp_path / "s.wav", channels=3, rate=44_100, seconds=3.0, value=0.3)
    whole, _ = sf.read(str(path), dtype="float32", always_2d=True)
    whole /= max(1.0, float(np.abs(whole).max()))  # a peak above 1 is scaled down, as before
    expected = resample(whole.T.mean(axis=0), 44_100, 16_000)
    got, sr = load_audio(path, sr=16_000)
    assert sr == 16_000 and got.shape == expected.shape
    assert np.max(np.abs(got - np.clip(expected, -1, 1))) < 1e-5
    stereo, _ = load_audio(path, mono=False, max_channels=2)
    assert stereo.shape == (2, whole.shape[0]) and np.array_equal(stereo, whole.T[:2])


@pytest.mark.parametrize("seconds", [0.1, 0.5])
def test_a_song_shorter_than_a_second_is_refused_at_upload(with_model, client, settings, seconds):
    r = _cover(client, _flac(seconds), "짧은 노래.flac")
    error = r.get_json()["error"]
    assert r.status_code == 400 and error["code"] == "audio_too_short", error
    assert error["params"] == {"file": "짧은 노래.flac", "seconds": seconds, "min_seconds": 1.0}
    assert "01.flac" not in error["message"] and "짧은 노래.flac" in error["message"]
    assert _nothing_queued(settings)


def test_a_recording_of_a_tenth_of_a_second_is_refused_at_upload(client, settings):
    r = client.post(
        "/api/trainings",
        data={"name": "목소리", "epochs": "1", "files": [upload(_flac(0.1), "숨.flac")]},
        content_type="multipart/form-data",
    )
    error = r.get_json()["error"]
    assert r.status_code == 400 and error["code"] in ("audio_too_short", "consent_required"), error
    if error["code"] == "audio_too_short":
        assert error["params"]["file"] == "숨.flac"
    assert _nothing_queued(settings)


def test_nan_filled_audio_is_refused_at_upload(with_model, client, settings):
    body = _wav(np.full(16000 * 3, np.nan))
    r = _cover(client, body, "nan.wav")
    error = r.get_json()["error"]
    assert r.status_code == 400 and error["code"] == "audio_unreadable", error
    assert error["params"]["file"] == "nan.wav" and "not numbers" in error["message"]
    assert "01.wav" not in error["message"]
    assert _nothing_queued(settings)


def test_an_unreadable_upload_names_the_persons_file(with_model, client):
    r = _cover(client, b"not audio at all" * 100, "노래.mp3")
    error = r.get_json()["error"]
    assert r.status_code == 400 and error["code"] == "audio_unreadable"
    assert "노래.mp3" in error["message"] and "01.mp3" not in error["message"]


def test_the_worker_refuses_a_dense_file_too(tmp_path):
    path = _write_blocks(tmp_path / "wide.wav", channels=40, rate=8000, seconds=0.5)
    with pytest.raises(PersonaError) as err:
        load_audio(path, max_seconds=60)
    assert err.value.code == "audio_too_dense" and err.value.params["channels"] == 40


def _orphaned_cover(settings, monkeypatch, kills_at_start: int):
    """A running cover whose worker is dead, its attempt having noted ``kills_at_start``."""
    queue = JobQueue(settings)
    job = queue.store.create("cover", {"model": "x", "_song": "s.wav"}, model="x")
    folder = queue.job_dir(job["id"])
    folder.mkdir(parents=True, exist_ok=True)
    queue.store.claim(job["id"])
    monkeypatch.setattr(oom, "oom_kills", lambda: kills_at_start)
    oom.note_start(folder)
    queue.store._update(job["id"], bump=False, worker_pid=DEAD_PID, attempts=1, stage="convert")
    return queue, job["id"]


def test_a_worker_killed_for_memory_is_reported_as_out_of_memory(settings, monkeypatch):
    queue, job_id = _orphaned_cover(settings, monkeypatch, 7)
    monkeypatch.setattr(oom, "oom_kills", lambda: 8)  # the kernel killed something since
    assert recover(settings, queue)["failed"] == [job_id]
    failed = queue.store.get(job_id)
    assert failed["status"] == "failed" and failed["error"]["code"] == "out_of_memory"


def test_a_worker_killed_otherwise_is_still_started_again(settings, monkeypatch):
    queue, job_id = _orphaned_cover(settings, monkeypatch, 7)
    assert recover(settings, queue)["requeued"] == [job_id]


def test_a_job_error_names_the_persons_song_not_the_saved_file():
    from persona.jobs.handlers import _with_upload_names

    exc = PersonaError("audio_too_short", "01.mp3 is 0.100 s long; a song needs at least 1 s")
    named = _with_upload_names(exc, {"_song": "01.mp3", "song_name": "내 노래.mp3"})
    assert named.message == "내 노래.mp3 is 0.100 s long; a song needs at least 1 s"
    assert named.params["file"] == "내 노래.mp3"


def test_a_crash_in_a_job_shows_no_python_text(settings):
    from persona.jobs.runner import run_job
    from persona.jobs.store import JobStore

    job = JobQueue(settings).submit("fixture", {})

    def crashes(ctx):
        return ()[0]  # IndexError: tuple index out of range

    assert run_job(settings, job["id"], {"fixture": crashes}) == "failed"
    error = JobStore(settings).get(job["id"])["error"]
    assert error["code"] == "internal_error" and "tuple index" not in error["message"]
