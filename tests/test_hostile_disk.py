"""A full disk is said plainly (issue 24 item 5): ``disk_full`` (507, Korean text in the page)
for every way it shows (ENOSPC from a write, a full database), free space checked before an
upload is read or a job is queued, and a job never left ``running`` because its end could not
be recorded. Faults are injected at the write seams (``OSError(ENOSPC)``, SQLite's "database or
disk is full"); where this machine may mount a small tmpfs, one upload also meets a real one."""

from __future__ import annotations

import errno
import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from persona import disk
from persona.errors import PersonaError
from persona.jobs import JobQueue
from persona.jobs.runner import run_job
from persona.jobs.store import JobStore, new_job_id
from persona.library import ModelLibrary
from persona.testing.home import write_fixture_model
from persona.testing.uploads import upload

FULL = OSError(errno.ENOSPC, "No space left on device")


def _song() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, (0.2 * np.sin(np.arange(16000 * 3) / 10)).astype(np.float32), 16000, format="WAV")
    return buf.getvalue()


@pytest.fixture
def settings(settings):
    return settings.replace(jobs_need_assets=False)  # no worker runs these jobs


@pytest.fixture
def voiced(settings, client):
    """The client, with a model to cover with."""
    ModelLibrary(settings).add("목소리", write_fixture_model(settings.home / "m.pth"), source="upload")
    return client


def _post_cover(client):
    return client.post(
        "/api/covers",
        data={"model": "목소리", "song": upload(_song(), "노래.wav")},
        content_type="multipart/form-data",
    )


def _staging_left(settings) -> list[Path]:
    return list(Path(settings.jobs_dir).glob(".upload-*"))


def _is_disk_full(r) -> dict:
    error = r.get_json()["error"]
    assert r.status_code == 507 and error["code"] == "disk_full", (r.status_code, error)
    return error


def test_an_upload_is_refused_before_reading_when_space_is_short(settings, monkeypatch, voiced):
    client = voiced
    monkeypatch.setattr(disk, "free_bytes", lambda path: 10 << 20)
    error = _is_disk_full(_post_cover(client))
    assert error["params"]["free_mb"] == 10 and error["params"]["needed_mb"] >= settings.min_free_mb
    assert JobQueue(settings).store.list(limit=5) == [] and not _staging_left(settings)


def test_enospc_while_saving_an_upload_is_disk_full_and_leaves_nothing(settings, monkeypatch, voiced):
    from persona.server import validation

    client = voiced

    class Full(io.BytesIO):
        def write(self, data):
            raise FULL

    monkeypatch.setattr(validation, "open", lambda *a, **k: Full(), raising=False)
    _is_disk_full(_post_cover(client))
    assert JobQueue(settings).store.list(limit=5) == [] and not _staging_left(settings)


def test_a_full_job_database_is_disk_full(settings, monkeypatch, voiced):
    from sqlalchemy.exc import OperationalError

    client = voiced

    def full(*args, **kwargs):
        raise OperationalError("INSERT INTO jobs", {}, Exception("database or disk is full"))

    monkeypatch.setattr(JobStore, "create", full)
    _is_disk_full(_post_cover(client))
    assert not _staging_left(settings)


def test_enospc_while_unpacking_a_model_is_disk_full_and_the_library_unchanged(
    settings, tmp_path, monkeypatch, client
):
    import zipfile

    from persona.library import models

    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(write_fixture_model(tmp_path / "m.pth"), "m.pth")

    def full(*args, **kwargs):
        raise FULL

    monkeypatch.setattr(models, "extract_member", full)
    r = client.post(
        "/api/models/upload",
        data={"file": upload(z.getvalue(), "m.zip"), "name": "가득", "rights_confirmed": "1"},
        content_type="multipart/form-data",
    )
    _is_disk_full(r)
    assert not ModelLibrary(settings).exists("가득") and not _staging_left(settings)


def test_a_job_is_not_queued_when_space_is_short(settings, monkeypatch):
    monkeypatch.setattr(disk, "free_bytes", lambda path: 0)
    with pytest.raises(PersonaError) as err:
        JobQueue(settings).submit("fixture", {"seconds": 0})
    assert err.value.code == "disk_full" and err.value.status == 507


def _queued(settings, kind: str = "fixture") -> str:
    queue = JobQueue(settings)
    job_id = new_job_id()
    (queue.job_dir(job_id) / "inputs").mkdir(parents=True)
    (queue.job_dir(job_id) / "inputs" / "big.bin").write_bytes(b"x" * 1024)
    queue.submit(kind, {}, job_id=job_id)
    return job_id


def test_enospc_in_a_job_fails_it_as_disk_full(settings):
    job_id = _queued(settings)

    def writes(ctx):
        raise OSError(errno.ENOSPC, "No space left on device", str(ctx.scratch / "G_1.pth"))

    assert run_job(settings, job_id, {"fixture": writes}) == "failed"
    job = JobStore(settings).get(job_id)
    assert job["error"]["code"] == "disk_full" and "G_1.pth" not in job["error"]["message"]


def test_a_job_whose_end_cannot_be_recorded_frees_its_files_and_records_it(settings, monkeypatch):
    """The database is on the full disk: the first write of the job's end fails; the attempt
    removes its own files (inputs, scratch), and the end lands as ``failed: disk_full``."""
    from sqlalchemy.exc import OperationalError

    job_id = _queued(settings)
    inputs = JobQueue(settings).job_dir(job_id) / "inputs"
    real_finish = JobStore.finish
    calls = []

    def finish(self, *args, **kwargs):
        calls.append(inputs.exists())
        if len(calls) == 1:
            raise OperationalError("UPDATE jobs", {}, Exception("database or disk is full"))
        return real_finish(self, *args, **kwargs)

    monkeypatch.setattr(JobStore, "finish", finish)

    def writes(ctx):
        raise FULL

    assert run_job(settings, job_id, {"fixture": writes}) == "failed"
    assert calls == [True, False]  # the second try came after the job's files were removed
    job = JobStore(settings).get(job_id)
    assert job["status"] == "failed" and job["error"]["code"] == "disk_full"


def test_the_cli_says_disk_full_in_one_line(monkeypatch, capsys):
    from persona import cli

    def full(*args, **kwargs):
        raise FULL

    monkeypatch.setattr(cli, "settings_from_args", full)
    assert cli.main(["models"]) == 2
    assert "[disk_full]" in capsys.readouterr().err


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True
    )
    return done.returncode == 0


def test_a_real_full_disk_under_an_upload(settings, tmp_path, make_client):
    """A Persona home whose jobs folder is a 1 MiB tmpfs: a 2 MiB song meets a real ENOSPC."""
    import dataclasses

    small = tmp_path / "small"
    if not _mount_tmpfs(small, "1m"):
        pytest.skip("cannot mount a tmpfs here (not root, or no mount)")
    try:
        jobs = dataclasses.replace(settings, min_free_mb=0)
        jobs.jobs_dir.parent.mkdir(parents=True, exist_ok=True)
        jobs.jobs_dir.symlink_to(small)
        ModelLibrary(jobs).add("목소리", write_fixture_model(jobs.home / "m.pth"), source="upload")
        client = make_client(jobs)
        buf = io.BytesIO()
        sf.write(buf, np.zeros(16000 * 70, np.float32) + 0.1, 16000, format="WAV", subtype="FLOAT")
        r = client.post(
            "/api/covers",
            data={"model": "목소리", "song": upload(buf.getvalue(), "큰 노래.wav")},
            content_type="multipart/form-data",
        )
        _is_disk_full(r)
        assert not list(small.glob(".upload-*"))
    finally:
        subprocess.run(
            ["umount", "-l", str(small)], capture_output=True
        )  # the job database may still be open
