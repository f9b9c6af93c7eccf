"""Ownership, proved from the OpenAPI document: for every route that takes an id or a name, person
B gets the same 404 as for a missing object when it is person A's (and A gets the object), and a
new route missing from the table below fails the test. Socket.IO: B cannot subscribe to A's job.
Model names are per person."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from accounts_fixtures import cheap_hashes

from persona.accounts import credentials
from persona.accounts.store import Accounts
from persona.jobs import JobStore
from persona.library import CoverLibrary, ModelLibrary
from persona.server.openapi import build_openapi
from persona.testing.home import write_fixture_model, write_fixture_song
from persona.testing.saves import write_fixture_save

A_MODEL = "미나의목소리"

# Every path with a parameter -> (what B gets for A's object, how A's object fills the path).
# B's answer is the missing-object 404 for people's objects; admin routes are closed to B (403).
ROUTES: dict[str, tuple[int, dict[str, str]]] = {
    "/api/models/{name}": (404, {"name": A_MODEL}),
    "/api/models/{name}/download": (404, {"name": A_MODEL}),
    "/api/models/{name}/saves": (404, {"name": A_MODEL}),
    "/api/models/{name}/previews/{epoch}": (404, {"name": A_MODEL, "epoch": "1"}),
    "/api/models/{name}/saves/{epoch}/export": (404, {"name": A_MODEL, "epoch": "1"}),
    "/api/covers/{cover_id}": (404, {"cover_id": "COVER"}),
    "/api/covers/{cover_id}/audio": (404, {"cover_id": "COVER"}),
    "/api/covers/{cover_id}/original": (404, {"cover_id": "COVER"}),
    "/api/covers/{cover_id}/download": (404, {"cover_id": "COVER"}),
    "/api/jobs/{job_id}": (404, {"job_id": "TRAIN_JOB"}),
    "/api/jobs/{job_id}/training": (404, {"job_id": "TRAIN_JOB"}),
    "/api/jobs/{job_id}/previews/{epoch}": (404, {"job_id": "TRAIN_JOB", "epoch": "1"}),
    "/api/jobs/{job_id}/cancel": (404, {"job_id": "COVER_JOB"}),
    "/api/jobs/{job_id}/audio": (404, {"job_id": "COVER_JOB"}),
    "/api/tokens/{token_id}": (404, {"token_id": "TOKEN"}),
    "/api/admin/users/{user_id}": (403, {"user_id": "A"}),
}
METHODS = ("get", "post", "patch", "delete")
MISSING = ("model_not_found", "cover_not_found", "job_not_found", "not_a_training", "preview_not_found")


@pytest.fixture
def two(settings, app, tmp_path):
    """Mina (A, admin) with a model, a cover, a training with a save, a queued cover job and a
    token; Jun (B) with a model of the same name as one of Mina's. Tokens for both."""
    cheap_hashes()
    acc = Accounts.of(settings)
    a = acc.create("Mina", "correct horse battery staple", admin=True)
    b = acc.create("Jun", "purple monkey dishwasher 42")
    sa, sb = settings.replace(owner=a["id"]), settings.replace(owner=b["id"])
    pth = write_fixture_model(tmp_path / "m.pth")
    ModelLibrary(sa).add(A_MODEL, pth, source="fixture")
    ModelLibrary(sa).add("내목소리", pth, source="fixture")
    ModelLibrary(sb).add("내목소리", pth, source="fixture")
    cover = CoverLibrary(sa).add(
        write_fixture_song(tmp_path / "c.wav"), model=A_MODEL, song_name="s.wav", pitch=0, move=False,
        original_path=tmp_path / "c.wav",
    )  # fmt: skip
    write_fixture_save(sa, A_MODEL, 1)
    store = JobStore(settings)
    train = store.create("train", {"name": A_MODEL}, model=A_MODEL, owner=a["id"])
    queued = store.create("cover", {"model": A_MODEL}, model=A_MODEL, owner=a["id"])
    token_row, a_token = credentials.issue_token(acc, a["id"], "a")
    _, b_token = credentials.issue_token(acc, b["id"], "b")
    ids = {
        "COVER": cover.id, "TRAIN_JOB": train["id"], "COVER_JOB": queued["id"], "TOKEN": token_row["id"],
        "A": a["id"],
    }  # fmt: skip
    return {"a": a, "b": b, "ids": ids, "A": _auth(a_token), "B": _auth(b_token), "sa": sa, "sb": sb}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _operations():
    for path, ops in build_openapi()["paths"].items():
        if "{" in path:
            for method in METHODS:
                if method in ops:
                    yield path, method


def _url(path: str, fill: dict[str, str], ids: dict[str, str]) -> str:
    from urllib.parse import quote

    return re.sub(r"\{(\w+)\}", lambda m: quote(ids.get(fill[m.group(1)], fill[m.group(1)]), safe=""), path)


def test_every_route_with_an_id_or_a_name_is_in_the_table():
    paths = {p for p, _ in _operations()}
    assert paths - set(ROUTES) == set(), "new routes: add them to ROUTES with what person B must get"
    assert set(ROUTES) - paths == set()


def test_person_b_gets_404_for_every_object_of_person_a(two, client):
    ids = two["ids"]
    secrets = [A_MODEL, *ids.values(), "Mina"]
    for path, method in _operations():
        expected, fill = ROUTES[path]
        url = _url(path, fill, ids)
        r = client.open(url, method=method.upper(), headers=two["B"], json={})
        assert r.status_code == expected, (method, url, r.status_code, r.get_data(as_text=True)[:300])
        body = r.get_data(as_text=True)
        asked = unquote(url)  # what B sent may be echoed; nothing else of A's
        assert not any(s in body for s in secrets if s not in asked), (method, url, body[:300])
        if expected == 404:  # exactly the answer for a missing object
            missing = client.open(_url(path, fill, {}).replace(A_MODEL, "없는모델"), method=method.upper(),
                                  headers=two["B"], json={})  # fmt: skip
            assert r.get_json()["error"]["code"] == missing.get_json()["error"]["code"], url
    # A still has everything and reaches it (the table's ids are right, so the 404s mean something):
    # A's answer is the object, or at least never the missing-object answer B got
    for path, method in _operations():
        if method == "get" and ROUTES[path][0] == 404:
            url = _url(path, ROUTES[path][1], ids)
            r = client.get(url, headers=two["A"])
            assert r.status_code in (200, 206) or r.get_json()["error"]["code"] not in MISSING, (
                url,
                r.get_json(),
            )
    assert JobStore(two["sa"]).get(ids["COVER_JOB"])["status"] == "queued"


def test_lists_show_only_ones_own(two, client):
    models_a = {m["name"] for m in client.get("/api/models", headers=two["A"]).get_json()}
    models_b = {m["name"] for m in client.get("/api/models", headers=two["B"]).get_json()}
    assert models_a == {A_MODEL, "내목소리"} and models_b == {"내목소리"}
    assert client.get("/api/covers", headers=two["B"]).get_json() == []
    assert len(client.get("/api/covers", headers=two["A"]).get_json()) == 1
    assert client.get("/api/jobs", headers=two["B"]).get_json() == []
    assert len(client.get("/api/jobs", headers=two["A"]).get_json()) == 2


def test_model_names_are_per_person(two, client):
    """Both have "내목소리"; B deleting theirs leaves A's."""
    assert client.delete("/api/models/내목소리", headers=two["B"]).status_code == 204
    assert client.get("/api/models/내목소리", headers=two["B"]).status_code == 404
    assert client.get("/api/models/내목소리", headers=two["A"]).status_code == 200


def test_person_b_cannot_subscribe_to_person_a_s_job(two, app, client):
    socketio = app.extensions["socketio"]
    job_id = two["ids"]["TRAIN_JOB"]
    b = socketio.test_client(app, flask_test_client=client, auth={"token": two["B"]["Authorization"][7:]})
    assert b.is_connected()
    answer = b.emit("subscribe", {"job_id": job_id}, callback=True)
    assert answer["error"]["code"] == "job_not_found"
    assert not [e for e in b.get_received() if e["args"] and job_id in str(e["args"])]
    a = socketio.test_client(app, flask_test_client=client, auth={"token": two["A"]["Authorization"][7:]})
    assert a.emit("subscribe", {"job_id": job_id}, callback=True)["ok"] is True
    a.disconnect()
    b.disconnect()


def test_the_weights_download_is_the_servers_job(two, app, client):
    """The shared ``assets`` job: B (not an admin) may follow A's download (that it runs, its
    progress) but neither its request nor who started it, and may neither start nor stop one."""
    names = ["rmvpe"]
    job = JobStore(two["sa"]).create("assets", {"names": names}, owner=two["a"]["id"])
    url = f"/api/jobs/{job['id']}"
    seen = client.get(url, headers=two["B"])
    assert seen.status_code == 200 and seen.get_json()["status"] == "queued"
    assert seen.get_json()["params"] == {}
    body = seen.get_data(as_text=True)
    assert two["a"]["id"] not in body and "Mina" not in body and "rmvpe" not in body
    assert client.get(url, headers=two["A"]).get_json()["params"] == {"names": names}
    overview = client.get("/api/assets", headers=two["B"]).get_json()
    assert overview["job"]["id"] == job["id"] and overview["job"]["params"] == {}
    assert overview["can_download"] is False
    assert client.get("/api/assets", headers=two["A"]).get_json()["can_download"] is True
    for attempt in (
        client.post(f"{url}/cancel", headers=two["B"]),
        client.post("/api/assets/download", headers=two["B"], json={}),
    ):
        assert (attempt.status_code, attempt.get_json()["error"]["code"]) == (403, "admin_required")
    assert JobStore(two["sa"]).get(job["id"])["status"] == "queued"
    socketio = app.extensions["socketio"]
    b = socketio.test_client(app, flask_test_client=client, auth={"token": two["B"]["Authorization"][7:]})
    answer = b.emit("subscribe", {"job_id": job["id"]}, callback=True)
    assert answer["ok"] is True and answer["job"]["params"] == {}
    b.disconnect()
    assert client.post(f"{url}/cancel", headers=two["A"]).status_code == 202  # an admin stops it
