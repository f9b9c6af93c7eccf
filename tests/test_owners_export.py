"""Taking one's data: ``GET /api/me/export`` gives everything of mine as one zip (and nothing of
anyone else's), and ``POST /api/me/import`` on another server brings it back: models (RVC files),
covers with their originals, trainings with saves and previews."""

from __future__ import annotations

import io
import json
import zipfile

from accounts_fixtures import cheap_hashes

from persona.accounts import credentials
from persona.accounts.store import Accounts
from persona.jobs import JobStore
from persona.library import CoverLibrary, ModelLibrary
from persona.settings import Settings
from persona.testing.home import write_fixture_model, write_fixture_song
from persona.testing.saves import write_fixture_save


def _person(settings, name: str, admin: bool = False):
    cheap_hashes()
    acc = Accounts.of(settings)
    row = acc.create(name, "correct horse battery staple", admin=admin)
    _, token = credentials.issue_token(acc, row["id"], "t")
    return row, {"Authorization": f"Bearer {token}"}


def test_export_then_import_elsewhere(settings, client, tmp_path, make_client):
    mina, mina_auth = _person(settings, "Mina", admin=True)
    jun, _ = _person(settings, "Jun")
    mine = settings.replace(owner=mina["id"])
    pth = write_fixture_model(tmp_path / "m.pth")
    ModelLibrary(mine).add("내목소리", pth, source="trained")
    ModelLibrary(settings.replace(owner=jun["id"])).add("준의목소리", pth, source="fixture")
    song = write_fixture_song(tmp_path / "s.wav")
    cover = CoverLibrary(mine).add(
        song, model="내목소리", song_name="노래.wav", pitch=2, move=False, original_path=song
    )
    write_fixture_save(mine, "내목소리", 1)
    store = JobStore(settings)
    job = store.create("cover", {"model": "내목소리"}, model="내목소리", owner=mina["id"])
    store.finish(job["id"], store.claim(job["id"]), "succeeded", result={"cover_id": cover.id})

    r = client.get("/api/me/export", headers=mina_auth)
    assert r.status_code == 200 and r.mimetype == "application/zip"
    data = r.get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("persona-export.json"))
        assert zf.read("models/내목소리/model.pth") == pth.read_bytes()  # an RVC file as it is
    assert [m["name"] for m in manifest["models"]] == ["내목소리"]
    assert [c["id"] for c in manifest["covers"]] == [cover.id]
    assert [j["id"] for j in manifest["jobs"]] == [job["id"]]
    assert any(n.startswith("training/내목소리/previews/") for n in names)
    assert not any("준의목소리" in n for n in names) and jun["id"] not in data.decode("latin-1")

    # another server, another person
    other = Settings(home=tmp_path / "other", assets_dir=tmp_path / "assets", device="cpu")
    other_client = make_client(other)
    someone, auth = _person(other, "Someone", admin=True)
    theirs = other.replace(owner=someone["id"])
    ModelLibrary(theirs).add("내목소리", pth, source="fixture")  # a name they already have
    r = other_client.post(
        "/api/me/import", data={"file": (io.BytesIO(data), "persona-export.zip")}, headers=auth
    )
    assert r.status_code == 201, r.get_json()
    added = r.get_json()
    assert (
        added["models"] == ["내목소리 (2)"]
        and len(added["covers"]) == 1
        and added["trainings"] == ["내목소리"]
    )
    assert ModelLibrary(theirs).get("내목소리 (2)").pth_path.read_bytes() == pth.read_bytes()
    imported = CoverLibrary(theirs).get(added["covers"][0])
    assert imported.audio_path.read_bytes() == cover.audio_path.read_bytes()
    assert imported.original_path is not None and imported.metadata["pitch"] == 2
    assert (theirs.training_dir / "내목소리" / "saves.json").is_file()


def test_a_zip_that_is_not_an_export_is_refused_and_nothing_is_kept(settings, client):
    _, auth = _person(settings, "Mina", admin=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model.pth", b"not really")
    r = client.post("/api/me/import", data={"file": (io.BytesIO(buf.getvalue()), "x.zip")}, headers=auth)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "export_invalid"
    assert client.get("/api/models", headers=auth).get_json() == []
