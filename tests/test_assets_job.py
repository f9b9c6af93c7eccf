"""Weights from the page: /api/assets says what is missing (one answer with what jobs need), the
API refuses a job that cannot run, and an ``assets`` job downloads from a mirror on 127.0.0.1
with byte progress; a failed download (no network, wrong hash, disk full) says so, leaves nothing
in the assets folder and can be retried."""

from __future__ import annotations

import errno
import io
from pathlib import Path

import pytest

from persona.assets import downloader
from persona.jobs.handlers import default_handlers
from persona.jobs.needs import missing, missing_for_defaults, requirements
from persona.jobs.runner import run_job
from persona.library import ModelLibrary
from persona.settings import Settings
from persona.testing.home import write_fixture_model, write_fixture_song
from persona.testing.http import FileServer
from persona.testing.mirror import build_mirror
from persona.testing.uploads import upload


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    pins, served = build_mirror(tmp_path_factory.mktemp("mirror"))
    with FileServer() as server:
        for path, data in served.items():
            server.put(path, data)
        yield server, pins, served


@pytest.fixture
def settings(tmp_path, mirror) -> Settings:
    server, pins, _ = mirror
    return Settings(home=tmp_path / "home", device="cpu", asset_base_url=server.url, asset_pins=str(pins))


def _visible(root: Path) -> list[str]:
    """What a user sees in the assets folder (the .partial/ folder holds resumable parts)."""
    if not root.exists():
        return []
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".partial" not in p.parts
    )


def _run_download(client, settings) -> dict:
    r = client.post("/api/assets/download", json={})
    assert r.status_code == 202, r.get_json()
    job_id = r.get_json()["job_id"]
    run_job(settings, job_id, default_handlers())  # what the worker does, in this process
    return client.get(f"/api/jobs/{job_id}").get_json()


def test_needs_follow_the_jobs_options():
    s = Settings(home=Path("/nonexistent"), device="cpu")
    train = requirements(s, "train", {"sample_rate": "48k", "f0_method": "pm"})
    assert train == [
        ("hubert_base", "hubert_base.pt"),
        ("pretrained_v2/f0G48k.pth",),
        ("pretrained_v2/f0D48k.pth",),
    ]
    cover = requirements(s, "cover", {"options": {"f0_method": "rmvpe", "separation_model": "htdemucs"}})
    assert ("rmvpe.pt",) in cover and all(g[0].startswith(("hubert", "rmvpe", "separation/")) for g in cover)


def test_an_empty_home_lists_what_is_missing_with_sizes_and_the_command(client, settings, mirror):
    body = client.get("/api/assets").get_json()
    names = [m["name"] for m in body["missing"]]
    assert body["needs"] == missing_for_defaults(settings)
    assert "hubert_base" in names and "rmvpe.pt" in names and "pretrained_v2/f0G40k.pth" in names
    sizes = {m["name"]: m["size"] for m in body["missing"]}
    served = {p.rsplit("/", 1)[1]: len(d) for p, d in mirror[2].items()}
    assert sizes["rmvpe.pt"] == served["rmvpe.pt"]  # the pinned (mirror's) size
    assert body["missing_bytes"] == sum(sizes.values())
    assert body["command"] == "persona assets download"
    need = client.get("/api/assets/needs?kind=train&f0_method=pm").get_json()
    assert "rmvpe.pt" not in [m["name"] for m in need["missing"]]
    assert client.get("/api/assets/needs?kind=nope").status_code == 400


def test_jobs_that_cannot_run_are_refused_with_the_missing_names(client, settings, tmp_path):
    song = write_fixture_song(tmp_path / "노래.wav", seconds=1.0)
    r = client.post(
        "/api/trainings",
        data={"name": "새 목소리", "epochs": "1", "files": [upload(song, "내녹음.wav")]},
        content_type="multipart/form-data",
    )
    body = r.get_json()["error"]
    assert r.status_code == 409 and body["code"] == "assets_needed"
    assert "rmvpe.pt" in body["params"]["assets"]
    assert client.get("/api/jobs").get_json() == []  # nothing was queued
    ModelLibrary(settings).add("보컬", write_fixture_model(tmp_path / "v.pth"), source="upload")
    r = client.post(
        "/api/covers",
        data={"model": "보컬", "song": upload(song, "노래.wav")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "assets_needed"
    assert not any(p.name.startswith(".upload-") for p in settings.jobs_dir.iterdir())


def test_the_download_job_fetches_verifies_and_places_everything(client, settings):
    job = _run_download(client, settings)
    assert job["status"] == "succeeded", job
    assert job["metrics"]["bytes_done"] == job["metrics"]["bytes_total"] > 0
    assert client.get("/api/assets").get_json()["missing"] == []
    assert missing(settings, "train") == [] and missing(settings, "cover") == []
    assert not (settings.assets / ".partial").exists()
    # A second request while nothing is missing is harmless; one while a job runs answers that job.
    first = client.post("/api/assets/download", json={}).get_json()["job_id"]
    assert client.post("/api/assets/download", json={}).get_json()["job_id"] == first


def test_a_wrong_hash_fails_cleanly_and_a_retry_works(client, settings, mirror):
    server, _, served = mirror
    path = next(p for p in served if p.endswith("/rmvpe.pt"))
    good = served[path]
    server.put(path, b"x" * len(good))  # same size, other bytes
    try:
        job = _run_download(client, settings)
    finally:
        server.put(path, good)
    assert job["status"] == "failed" and job["error"]["code"] == "asset_checksum_mismatch"
    assert "rmvpe.pt" not in _visible(settings.assets)
    assert not list((settings.assets / ".partial").rglob("rmvpe.pt*"))  # the bad part was deleted
    assert client.get("/api/assets").get_json()["last_job"]["status"] == "failed"
    assert _run_download(client, settings)["status"] == "succeeded"
    assert "rmvpe.pt" in _visible(settings.assets)


def test_no_network_fails_with_a_code_and_nothing_in_the_assets_folder(tmp_path, mirror, make_client):
    _, pins, _ = mirror
    settings = Settings(
        home=tmp_path / "home", device="cpu", asset_base_url="http://127.0.0.1:9", asset_pins=str(pins)
    )
    client = make_client(settings)
    job = _run_download(client, settings)
    assert job["status"] == "failed" and job["error"]["code"] == "download_failed"
    assert _visible(settings.assets) == []


def test_a_full_disk_fails_with_disk_full_and_frees_the_part(client, settings, monkeypatch):
    def full(file, part, vouched):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(downloader, "verify_part", full)
    job = _run_download(client, settings)
    assert job["status"] == "failed" and job["error"]["code"] == "disk_full"
    assert _visible(settings.assets) == []
    assert not list((settings.assets / ".partial").rglob("*.part"))


def test_serve_on_a_terminal_says_what_is_missing_and_downloads_on_yes(settings):
    from persona.cli.serve import first_start_assets

    out = io.StringIO()
    first_start_assets(settings, download=False, ask=True, out=out, read=lambda prompt: "n")
    text = out.getvalue()
    assert "rmvpe.pt" in text and "persona assets download" in text and "http://127.0.0.1:5000/" in text
    assert missing(settings, "train")  # "no" fetched nothing
    first_start_assets(settings, download=False, ask=True, out=io.StringIO(), read=lambda prompt: "y")
    assert missing(settings, "train") == [] and missing(settings, "cover") == []
    quiet = io.StringIO()
    first_start_assets(settings, download=False, ask=True, out=quiet, read=lambda prompt: 1 / 0)
    assert quiet.getvalue() == ""  # nothing missing: nothing said, nothing asked
