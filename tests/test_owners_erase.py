"""Leaving: deleting an account erases every recording, model, cover, preview, save, upload, job
folder, consent sentence, session and token of that person (the test walks the home and every
table afterwards and finds none), and nothing of anyone else. A disabled person's jobs stop."""

from __future__ import annotations

import time

from accounts_fixtures import cheap_hashes
from sqlalchemy import select

from persona import db
from persona.accounts import credentials
from persona.accounts.store import Accounts
from persona.catalogue.store import Catalogue
from persona.consent import challenge
from persona.jobs import JobQueue, JobStore
from persona.library import CoverLibrary, ModelLibrary
from persona.testing.home import start_worker, stop_process, wait_for, write_fixture_model, write_fixture_song
from persona.testing.saves import write_fixture_save

MINA_PW, JUN_PW = "correct horse battery staple", "purple monkey dishwasher 42"


def _things(settings, owner: str, name: str, tmp_path) -> dict[str, str]:
    """A model, a cover (with its original song), a training with a save and its preview, a
    finished and a queued job with their folders (uploaded recordings), a consent sentence."""
    mine = settings.replace(owner=owner)
    ModelLibrary(mine).add(name, write_fixture_model(tmp_path / f"{owner}.pth"), source="fixture")
    song = write_fixture_song(tmp_path / f"{owner}.wav")
    cover = CoverLibrary(mine).add(
        song, model=name, song_name="노래.wav", pitch=0, move=False, original_path=song
    )
    write_fixture_save(mine, name, 1)
    store = JobStore(settings)
    done = store.create("cover", {"model": name}, model=name, owner=owner)
    queued = store.create("train", {"name": name + "2", "_files": ["01.wav"]}, model=name + "2", owner=owner)
    for job in (done, queued):
        (settings.jobs_dir / job["id"] / "inputs").mkdir(parents=True)
        (settings.jobs_dir / job["id"] / "inputs" / "01.wav").write_bytes(song.read_bytes())
    c = challenge.issue(settings, name + "2", owner)
    return {"cover": cover.id, "done": done["id"], "queued": queued["id"], "challenge": c.id}


def _everything_in_the_database(settings) -> str:
    out = []
    eng = db.engines(db.database_url(settings))
    with eng.reading() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                out.append(repr(tuple(row)))
    return "\n".join(out)


def _everything_on_disk(settings) -> str:
    """Every path under the home, and the text of every small file."""
    out = []
    for path in sorted(settings.home.rglob("*")):
        out.append(str(path.relative_to(settings.home)))
        if path.is_file() and path.suffix in (".json", ".txt") and path.stat().st_size < 1_000_000:
            out.append(path.read_text("utf-8", errors="replace"))
    return "\n".join(out)


def test_deleting_an_account_leaves_nothing_of_the_person(settings, app, client, tmp_path):
    cheap_hashes()
    acc = Accounts.of(settings)
    mina = acc.create("Mina", MINA_PW, admin=True)
    jun = acc.create("Jun", JUN_PW)
    mine = _things(settings, mina["id"], "미나목소리", tmp_path)
    his = _things(settings, jun["id"], "준목소리", tmp_path)
    Catalogue(settings).set_quota(jun["id"], max_models=3)
    credentials.open_session(acc, jun["id"])
    _, token = credentials.issue_token(acc, jun["id"], "scripts")
    traces = [jun["id"], "준목소리", "Jun", *his.values()]
    assert all(t in _everything_in_the_database(settings) + _everything_on_disk(settings) for t in traces)

    r = client.delete("/api/me", json={"password": JUN_PW}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 204, r.get_json()

    found = _everything_in_the_database(settings) + "\n" + _everything_on_disk(settings)
    assert [t for t in traces if t in found] == []
    assert not list(settings.home.rglob("*준목소리*"))
    # Mina keeps everything
    minas = settings.replace(owner=mina["id"])
    assert [m.name for m in ModelLibrary(minas).list()] == ["미나목소리"]
    assert CoverLibrary(minas).get(mine["cover"]).audio_path.is_file()
    assert (minas.training_dir / "미나목소리" / "saves.json").is_file()
    assert (settings.jobs_dir / mine["queued"] / "inputs" / "01.wav").is_file()
    assert all(t in found for t in mine.values())
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_disabling_a_person_stops_their_jobs(settings, app, client, tmp_path):
    cheap_hashes()
    acc = Accounts.of(settings)
    mina = acc.create("Mina", MINA_PW, admin=True)
    jun = acc.create("Jun", JUN_PW)
    store = JobStore(settings)
    running = store.create("cover", {"model": "x"}, model="x", owner=jun["id"])
    token = store.claim(running["id"])  # a worker has it, mid-job
    queued = store.create("cover", {"model": "x"}, model="x", owner=jun["id"])
    minas = store.create("cover", {"model": "x"}, model="x", owner=mina["id"])
    _, admin_token = credentials.issue_token(acc, mina["id"], "admin")
    _, jun_token = credentials.issue_token(acc, jun["id"], "jun")
    r = client.patch(
        f"/api/admin/users/{jun['id']}",
        json={"disabled": True},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert r.status_code == 200, r.get_json()
    assert store.get(queued["id"])["status"] == "cancelled"
    assert store.stop_reason(running["id"], token) == "cancel"  # the worker stops at its next check
    assert store.get(minas["id"])["status"] == "queued"
    assert client.get("/api/jobs", headers={"Authorization": f"Bearer {jun_token}"}).status_code == 401


def test_erasing_a_person_mid_training_leaves_nothing(settings, client):
    """Jun's training runs in a worker (it has saved an epoch) when the admin deletes him: the job
    stops first, then everything goes; the worker writes nothing afterwards."""
    import signal

    cheap_hashes()
    acc = Accounts.of(settings)
    mina = acc.create("Mina", MINA_PW, admin=True)
    jun = acc.create("Jun", JUN_PW)
    _, admin_token = credentials.issue_token(acc, mina["id"], "admin")
    queue = JobQueue(settings)
    job = queue.submit(
        "train",
        {"name": "준목소리", "epochs": 100, "_step_s": 0.2, "_files": []},
        model="준목소리",
        owner=jun["id"],
    )
    proc = start_worker(settings, "--fixture-jobs")
    try:
        wait_for(lambda: queue.store.get(job["id"])["progress"] > 0, timeout=120)
        assert (settings.replace(owner=jun["id"]).training_dir / "준목소리").is_dir()
        r = client.delete(f"/api/admin/users/{jun['id']}", headers={"Authorization": f"Bearer {admin_token}"})
        assert r.status_code == 204, r.get_json()
        wait_for(lambda: not (settings.jobs_dir / job["id"]).exists(), timeout=60)
        time.sleep(1.0)  # anything a late worker write would leave has had time to appear
    finally:
        stop_process(proc, signal.SIGTERM)
    found = _everything_in_the_database(settings) + "\n" + _everything_on_disk(settings)
    assert [t for t in (jun["id"], "준목소리", job["id"]) if t in found] == []
