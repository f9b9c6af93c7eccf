"""Per-person limits: stored bytes, models and queued jobs. An upload or a job over a limit is
refused before anything is kept (413 for bytes, 429 for counts, ``quota_exceeded`` with reason,
usage and limit); ``GET /api/me`` shows the same numbers. The local owner has no limits."""

from __future__ import annotations

import io
import zipfile

from accounts_fixtures import cheap_hashes

from persona.accounts import credentials
from persona.accounts.store import Accounts
from persona.catalogue.store import Catalogue
from persona.jobs import JobStore
from persona.library import ModelLibrary
from persona.testing.home import write_fixture_model, write_fixture_song


def _jun(settings, **quota):
    cheap_hashes()
    acc = Accounts.of(settings)
    acc.create("Mina", "correct horse battery staple", admin=True)
    jun = acc.create("Jun", "purple monkey dishwasher 42", **quota)
    _, token = credentials.issue_token(acc, jun["id"], "t")
    return jun, {"Authorization": f"Bearer {token}"}


def _model_zip(tmp_path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.write(write_fixture_model(tmp_path / "up.pth"), "목소리.pth")
    return buf.getvalue()


def _nothing_kept(settings, owner: str) -> None:
    mine = settings.replace(owner=owner)
    assert (
        not mine.models_dir.exists() or [p.name for p in mine.models_dir.iterdir() if p.name != ".lock"] == []
    )
    assert [p.name for p in settings.jobs_dir.iterdir() if p.name.startswith(".upload-")] == []


def test_an_upload_over_the_byte_limit_is_refused_before_it_is_kept(settings, client, tmp_path):
    jun, auth = _jun(settings, quota_bytes=10_000)
    data = _model_zip(tmp_path)
    r = client.post("/api/models/upload", data={"file": (io.BytesIO(data), "m.zip")}, headers=auth)
    assert r.status_code == 413, r.get_json()
    err = r.get_json()["error"]
    assert err["code"] == "quota_exceeded" and err["params"]["reason"] == "bytes"
    assert err["params"]["limit"] == 10_000 and err["params"]["usage"] == 0
    _nothing_kept(settings, jun["id"])
    me = client.get("/api/me", headers=auth).get_json()
    assert me["usage"]["bytes"] == 0 and me["quota"]["bytes"] == 10_000


def test_model_and_job_counts(settings, client, tmp_path):
    jun, auth = _jun(settings)
    Catalogue(settings).set_quota(jun["id"], max_models=1, max_jobs=1)
    mine = settings.replace(owner=jun["id"])
    ModelLibrary(mine).add("하나", write_fixture_model(tmp_path / "a.pth"), source="fixture")
    r = client.post(
        "/api/models/upload", data={"file": (io.BytesIO(_model_zip(tmp_path)), "m.zip")}, headers=auth
    )
    assert r.status_code == 429 and r.get_json()["error"]["params"] == {
        "reason": "models", "usage": 1, "limit": 1, "adding": 1
    }  # fmt: skip
    JobStore(settings).create("cover", {"model": "하나"}, model="하나", owner=jun["id"])  # one queued
    song = write_fixture_song(tmp_path / "s.wav").read_bytes()
    r = client.post("/api/covers", data={"model": "하나", "song": (io.BytesIO(song), "s.wav")}, headers=auth)
    assert r.status_code == 429, r.get_json()
    assert r.get_json()["error"]["params"]["reason"] == "jobs_queued"
    assert len(JobStore(settings).list(owner=jun["id"])) == 1
    me = client.get("/api/me", headers=auth).get_json()
    assert me["usage"]["models"] == 1 and me["usage"]["jobs_queued"] == 1 and me["usage"]["bytes"] > 0
    assert me["quota"]["models"] == 1 and me["quota"]["jobs_queued"] == 1


def test_the_local_owner_has_no_limits(settings, client, tmp_path):
    settings_small = settings  # single-person mode: no account exists
    r = client.post(
        "/api/models/upload", data={"file": (io.BytesIO(_model_zip(tmp_path)), "m.zip")}, headers={}
    )
    assert r.status_code == 201, r.get_json()
    assert ModelLibrary(settings_small).exists("목소리")


def test_an_admin_sets_the_count_limits(settings, client):
    jun, jun_auth = _jun(settings)
    mina = Accounts.of(settings).find("Mina")
    _, token = credentials.issue_token(Accounts.of(settings), mina["id"], "admin")
    admin = {"Authorization": f"Bearer {token}"}
    r = client.patch(
        f"/api/admin/users/{jun['id']}", json={"quota_models": 3, "quota_jobs": 0}, headers=admin
    )
    assert r.status_code == 200, r.get_json()
    quota = client.get("/api/me", headers=jun_auth).get_json()["quota"]
    assert quota["models"] == 3 and quota["jobs_queued"] is None  # 0: no limit
    r = client.patch(f"/api/admin/users/{jun['id']}", json={"quota_models": -1}, headers=admin)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "quota_invalid"
    r = client.patch(f"/api/admin/users/{mina['id']}", json={"quota_models": 1}, headers=jun_auth)
    assert r.status_code == 403


# ---- what the service stores for a person counts, not only what they upload ---------------------------
def _person_bytes(settings, owner: str) -> int:
    """Every byte under the person's folder (``home/people/<id>/``: models, covers, trainings)."""
    from persona.catalogue.store import folder_bytes

    return folder_bytes(settings.replace(owner=owner).owner_root)


def _finish(settings, job_id: str) -> None:
    from persona.jobs.runner import run_job
    from persona.testing.jobs import fixture_handlers

    assert run_job(settings, job_id, fixture_handlers(sleep=lambda s: None)) == "succeeded"


def test_finished_covers_and_trained_models_count_toward_the_quota(settings, make_client, tmp_path):
    """A cover job's kept cover (with the original beside it) and a training's model, saves and
    previews are the person's bytes, exactly as much as their folder holds."""
    client = make_client(jobs_need_assets=False)
    jun, auth = _jun(settings)
    mine = settings.replace(owner=jun["id"])
    ModelLibrary(mine).add("하나", write_fixture_model(tmp_path / "a.pth"), source="fixture")
    song = write_fixture_song(tmp_path / "s.wav").read_bytes()
    r = client.post("/api/covers", data={"model": "하나", "song": (io.BytesIO(song), "s.wav")}, headers=auth)
    assert r.status_code == 202, r.get_json()
    before = client.get("/api/me", headers=auth).get_json()["usage"]["bytes"]
    _finish(settings, r.get_json()["job_id"])
    after_cover = client.get("/api/me", headers=auth).get_json()["usage"]["bytes"]
    assert after_cover >= before + 2 * len(song)  # the cover and the original kept beside it
    train = JobStore(settings).create(
        "train", {"name": "둘", "epochs": 2, "_step_s": 0}, model="둘", owner=jun["id"]
    )
    _finish(settings, train["id"])
    me = client.get("/api/me", headers=auth).get_json()["usage"]
    assert me["models"] == 2 and me["covers"] == 1
    assert me["bytes"] > after_cover
    assert me["bytes"] == _person_bytes(settings, jun["id"])  # nothing stored for Jun goes uncounted


def test_a_job_that_finishes_over_the_quota_keeps_its_result_and_the_next_is_refused(
    settings, make_client, tmp_path
):
    client = make_client(jobs_need_assets=False)
    probe, auth = _jun(settings)  # measure what the model and the upload weigh, then set the limit between
    mine = settings.replace(owner=probe["id"])
    ModelLibrary(mine).add("하나", write_fixture_model(tmp_path / "a.pth"), source="fixture")
    song = write_fixture_song(tmp_path / "s.wav").read_bytes()
    model_bytes = _person_bytes(settings, probe["id"])
    limit = model_bytes + 3 * len(song) // 2 + 4096  # room for the upload, not for what the job keeps
    Accounts.of(settings).change(probe["id"], quota_bytes=limit)
    r = client.post("/api/covers", data={"model": "하나", "song": (io.BytesIO(song), "s.wav")}, headers=auth)
    assert r.status_code == 202, r.get_json()  # under the limit when started
    job_id = r.get_json()["job_id"]
    _finish(settings, job_id)
    result = JobStore(settings).get(job_id)["result"]
    cover = client.get(f"/api/covers/{result['cover_id']}", headers=auth)
    assert cover.status_code == 200  # nothing lost: the cover is kept though it went over
    me = client.get("/api/me", headers=auth).get_json()
    assert me["usage"]["bytes"] > me["quota"]["bytes"] == limit
    r = client.post(
        "/api/covers", data={"model": "하나", "song": (io.BytesIO(song[:2048]), "t.wav")}, headers=auth
    )
    assert r.status_code == 413, r.get_json()
    err = r.get_json()["error"]
    assert err["code"] == "quota_exceeded" and err["params"]["reason"] == "bytes"
    assert err["params"]["usage"] == me["usage"]["bytes"] and err["params"]["limit"] == limit
    assert len(JobStore(settings).list(owner=probe["id"])) == 1  # no second job
    assert [p.name for p in settings.jobs_dir.iterdir() if p.name.startswith(".upload-")] == []
    assert client.get(f"/api/covers/{result['cover_id']}/audio", headers=auth).status_code == 200


def test_a_job_whose_size_is_not_known_is_refused_once_over_the_quota(settings, tmp_path):
    """A chunked upload has no length: a person at or over the limit is refused all the same."""
    import pytest

    from persona.catalogue.people import check_quota
    from persona.errors import PersonaError

    jun, _ = _jun(settings, quota_bytes=1000)
    mine = settings.replace(owner=jun["id"])
    ModelLibrary(mine).add("하나", write_fixture_model(tmp_path / "a.pth"), source="fixture")
    row = Accounts.of(settings).get(jun["id"])
    for kw in ({"add_jobs": 1}, {"add_models": 1}, {"add_bytes": 0, "add_jobs": 1}):
        with pytest.raises(PersonaError) as refused:
            check_quota(settings, jun["id"], row, **kw)
        assert refused.value.code == "quota_exceeded" and refused.value.params["reason"] == "bytes"
    check_quota(settings, jun["id"], row)  # asking for nothing is never refused
