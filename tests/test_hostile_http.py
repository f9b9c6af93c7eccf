"""HTTP edges: Range headers as RFC 7233 reads them, the request limit against the advertised
per-file limits, and a cover racing a DELETE of its model."""

from __future__ import annotations

import threading

import pytest

from persona.errors import PersonaError
from persona.jobs import JobQueue
from persona.library import CoverLibrary, ModelLibrary
from persona.testing.home import write_fixture_model, write_fixture_song
from persona.testing.uploads import upload


@pytest.fixture
def cover(settings, tmp_path):
    song = write_fixture_song(tmp_path / "c.wav", seconds=0.5)
    entry = CoverLibrary(settings).add(song, model="m", song_name="s.wav", pitch=0, duration_s=0.5)
    return entry.id, entry.audio_path.stat().st_size


@pytest.fixture
def settings(settings):
    return settings.replace(jobs_need_assets=False)  # no worker runs these jobs


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=9-3", "items=0-10", "bytes=", "bytes=1-2-3"])
def test_a_range_header_the_rfc_says_to_ignore_is_ignored(client, cover, header):
    cover_id, size = cover
    r = client.get(f"/api/covers/{cover_id}/audio", headers={"Range": header})
    assert r.status_code == 200 and len(r.data) == size


def test_a_suffix_range_longer_than_the_file_is_the_whole_file(client, cover):
    cover_id, size = cover
    r = client.get(f"/api/covers/{cover_id}/audio", headers={"Range": f"bytes=-{size * 10}"})
    assert r.status_code == 206 and len(r.data) == size
    assert r.headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    r = client.get(f"/api/covers/{cover_id}/audio", headers={"Range": "bytes=-10"})
    assert r.status_code == 206 and len(r.data) == 10
    # what the RFC calls unsatisfiable still is
    assert (
        client.get(f"/api/covers/{cover_id}/audio", headers={"Range": f"bytes={size + 5}-"}).status_code
        == 416
    )


def test_the_request_limit_admits_what_the_per_file_limits_allow(settings, tmp_path, make_client):
    """Three recordings at the per-file limit exceed one upload's limit, yet every limit allows them."""
    song = write_fixture_song(tmp_path / "r.wav", seconds=6.0)
    size = song.stat().st_size
    s = settings.replace(
        max_upload_bytes=size + 1000, max_training_file_bytes=size + 1000, max_training_files=3
    )
    client = make_client(s)
    files = [upload(song, f"r{i}.wav") for i in range(3)]
    r = client.post(
        "/api/trainings",
        data={"name": "세 개", "epochs": "1", "files": files},
        content_type="multipart/form-data",
    )
    assert r.status_code == 202, r.get_json()
    big = [upload(song.read_bytes() + b"\0" * 2000, "big.wav")]
    r = client.post(
        "/api/trainings",
        data={"name": "큰 것", "epochs": "1", "files": big},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "file_too_large"  # per file


def test_a_cover_and_a_delete_of_its_model_do_not_cross(settings, tmp_path):
    """Recording the cover job and deleting the model are one step each under the library lock:
    either the cover is refused (model gone) or the delete is (model in use) - never a queued
    cover for a deleted model."""
    queue = JobQueue(settings)
    lib = ModelLibrary(settings, in_use=queue.store.model_in_use)
    pth = write_fixture_model(tmp_path / "m.pth")
    for i in range(6):
        name = f"경주 {i}"
        ModelLibrary(settings).add(name, pth, source="upload")
        outcome: dict[str, str] = {}
        barrier = threading.Barrier(2)

        def cover(name=name, barrier=barrier, outcome=outcome):
            barrier.wait()
            try:
                with lib.using(name):
                    queue.store.create("cover", {"model": name}, model=name)
                outcome["cover"] = "queued"
            except PersonaError as exc:
                outcome["cover"] = exc.code

        def delete(name=name, barrier=barrier, outcome=outcome):
            barrier.wait()
            try:
                lib.delete(name)
                outcome["delete"] = "deleted"
            except PersonaError as exc:
                outcome["delete"] = exc.code

        threads = [threading.Thread(target=cover), threading.Thread(target=delete)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert outcome in (
            {"cover": "queued", "delete": "model_in_use"},
            {"cover": "model_not_found", "delete": "deleted"},
        ), outcome
        assert (outcome["cover"] == "queued") == lib.exists(name)


def test_a_request_for_several_ranges_gets_the_whole_file(client, cover):
    cover_id, size = cover
    r = client.get(f"/api/covers/{cover_id}/audio", headers={"Range": "bytes=0-1,5-6"})
    assert r.status_code == 200 and len(r.data) == size
    r = client.get(f"/api/covers/{cover_id}/audio", headers={"Range": f"bytes=0-1,{size + 9}-"})
    assert r.status_code == 200 and len(r.data) == size  # one of them is satisfiable
    r = client.get(f"/api/covers/{cover_id}/audio", headers={"Range": f"bytes={size}-,{size + 9}-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{size}"


@pytest.fixture
def dist_client(settings, tmp_path, make_client):
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>p</title>")
    return make_client(web_dist=dist)


@pytest.mark.parametrize("path", ["/%00", "/a%00b.js", "/api/models/%01", "/socket.io/%7f"])
def test_control_characters_in_a_path_are_refused(dist_client, path):
    r = dist_client.get(path)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "path_invalid"


def test_a_very_long_path_is_414_with_the_error_object(dist_client):
    r = dist_client.get("/" + "a" * 5000)
    assert r.status_code == 414
    assert r.get_json()["error"] == {
        "code": "path_too_long",
        "message": "the address is longer than 2048 characters",
        "params": {"max": 2048},
    }
    # one name too long for the file system, within the path limit: a page route, not a crash
    assert dist_client.get("/" + "b" * 600).status_code == 200
    assert dist_client.get("/" + "b" * 600 + ".js").status_code == 404


@pytest.mark.parametrize("route", ["/api/models/merge", "/api/assets/download"])
def test_json_nested_too_deeply_is_refused(dist_client, route):
    deep = "[" * 5000 + "]" * 5000
    r = dist_client.post(route, data=deep, content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "json_too_deep"


def test_the_token_cookie_opens_safe_requests_only(settings, make_client):
    """The page keeps the token out of URLs: its SameSite cookie carries it for GET/HEAD (audio,
    downloads, the Socket.IO handshake), never for a request that changes something."""
    client = make_client(token="T")
    assert client.get("/api/models").status_code == 401
    client.set_cookie("persona_token", "T")
    assert client.get("/api/models").status_code == 200
    r = client.post("/api/models/merge", json={"a": "x", "b": "y", "name": "z"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    client.set_cookie("persona_token", "wrong")
    assert client.get("/api/models").status_code == 401
