"""The breadth routes: merge two models over HTTP, and the original song kept for A/B (with Range)."""

from __future__ import annotations

from pathlib import Path

import pytest

from persona.library import CoverLibrary, ModelLibrary
from persona.testing.home import write_fixture_model, write_fixture_song
from persona.testing.rvc import write_small_model


@pytest.fixture
def client(settings, tmp_path, make_client):
    lib = ModelLibrary(settings)
    lib.add("a", write_small_model(tmp_path / "a.pth", seed=1), source="upload")
    lib.add("b", write_small_model(tmp_path / "b.pth", seed=3), source="upload")
    lib.add("old", write_fixture_model(tmp_path / "v1.pth", version="v1"), source="upload")
    return make_client(jobs_need_assets=False)


def test_merge_over_http(client, settings):
    r = client.post("/api/models/merge", json={"a": "a", "b": "b", "weight": 0.25, "name": "섞음"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["name"] == "섞음" and body["source"] == "merged"
    assert body["merged_from"] == {"a": "a", "b": "b", "weight": 0.25}
    assert client.get("/api/models/섞음").status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"a": "a", "b": "old", "name": "x"}, 400, "merge_incompatible"),
        ({"a": "a", "b": "nope", "name": "x"}, 404, "model_not_found"),
        ({"a": "a", "b": "b", "name": "x", "weight": 2}, 400, "option_invalid"),
        ({"a": "a", "b": "b", "name": "a"}, 409, "model_exists"),
        ({"a": "a", "b": "b"}, 400, "param_invalid"),
    ],
)
def test_bad_merges_are_refused_and_store_nothing(client, settings, body, status, code):
    before = sorted(p.name for p in settings.models_dir.iterdir())
    r = client.post("/api/models/merge", json=body)
    assert r.status_code == status and r.get_json()["error"]["code"] == code
    assert sorted(p.name for p in settings.models_dir.iterdir()) == before


def test_original_song_is_kept_and_served_with_range(client, settings, tmp_path):
    song = write_fixture_song(tmp_path / "노래.wav", seconds=1.0)
    cover_audio = write_fixture_song(tmp_path / "cover.wav", seconds=1.0)
    entry = CoverLibrary(settings).add(
        cover_audio, model="a", song_name="노래.wav", pitch=0, original_path=song
    )
    d = client.get(f"/api/covers/{entry.id}").get_json()
    assert d["original_url"] == f"/api/covers/{entry.id}/original"
    full = client.get(d["original_url"])
    assert full.status_code == 200 and full.data == Path(song).read_bytes()
    part = client.get(d["original_url"], headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.data == Path(song).read_bytes()[:100]
    assert song.exists()  # copied, not taken: the job folder owns its input

    legacy = CoverLibrary(settings).add(write_fixture_song(tmp_path / "c2.wav", seconds=0.5), model="a",
                                        song_name="x.wav", pitch=0)  # fmt: skip
    assert client.get(f"/api/covers/{legacy.id}").get_json()["original_url"] is None
    r = client.get(f"/api/covers/{legacy.id}/original")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "original_missing"
