"""Model and cover library: names, atomic adds, zip import (safety and choice), export, delete."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import pytest

from persona.errors import PersonaError
from persona.library import CoverLibrary, ModelLibrary, suggest_model_name, validate_model_name
from persona.testing.home import write_fixture_index, write_fixture_model, write_fixture_song


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("fixtures")
    return {
        "v2": write_fixture_model(d / "voice.pth", version="v2"),
        "v1": write_fixture_model(d / "old.pth", version="v1"),
        "index_v2": write_fixture_index(d / "i2", version="v2", exp_name="voice"),
        "index_v1": write_fixture_index(d / "i1", version="v1", exp_name="old"),
    }


def _zip(path: Path, members: dict[str, bytes | Path]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data.read_bytes() if isinstance(data, Path) else data)
    return path


def _snapshot(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("내 목소리", "내 목소리"),
        ("  Anna_v2 (final) ", "Anna_v2 (final)"),
        ("e\u0301cole", "\u00e9cole"),
        ("歌手", "歌手"),
    ],
)
def test_valid_names_are_normalised(raw, expected):
    assert validate_model_name(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "..",
        ".",
        ".hidden",
        "a/b",
        "a\\b",
        "CON",
        "nul.txt",
        "com1",
        "x" * 65,
        "a\x00b",
        "tab\there?",
        "a:b",
        5,
    ],
)
def test_bad_names_are_refused(raw):
    with pytest.raises(PersonaError) as err:
        validate_model_name(raw)
    assert err.value.code == "name_invalid"


def test_suggest_name_replaces_bad_characters():
    assert suggest_model_name("my/voice:v2") == "my_voice_v2"
    assert suggest_model_name("..", fallback="model") == "model"


def test_add_get_list_export_delete(settings, assets, tmp_path):
    lib = ModelLibrary(settings)
    entry = lib.add("목소리", assets["v2"], assets["index_v2"], source="upload")
    assert entry.pth_path == settings.models_dir / "목소리" / "model.pth"
    assert entry.index_path.name == assets["index_v2"].name  # RVC name kept
    d = entry.to_dict()
    assert d["version"] == "v2" and d["f0"] is True and d["has_index"] and d["sample_rate"] == 40000
    assert d["size_bytes"] > 0 and d["source"] == "upload"
    assert [e.name for e in lib.list()] == ["목소리"]
    with pytest.raises(PersonaError) as err:
        lib.add("목소리", assets["v2"], source="upload")
    assert err.value.code == "model_exists" and err.value.status == 409
    out = lib.export_zip("목소리", tmp_path / "out.zip")
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == sorted(["목소리.pth", assets["index_v2"].name, "persona-model.json"])
    # the exported zip imports again, under another name
    again = lib.import_zip(out, name="copy")
    assert again.metadata["imported_from"] == "목소리.pth" and again.index_path is not None
    lib.delete("목소리")
    with pytest.raises(PersonaError) as err:
        lib.get("목소리")
    assert err.value.status == 404
    assert not [p for p in settings.models_dir.iterdir() if p.name.startswith(".tmp")]


def test_an_exported_model_imports_again_with_what_persona_knew(settings, assets, tmp_path):
    """Voice profile, embedding, quality and training facts survive 모델 저장하기 + import
    (issue 25 item 5), in a file RVC and Applio ignore; a tampered facts file is dropped, key by key."""
    lib = ModelLibrary(settings)
    facts = {
        "voice_profile": {"median_hz": 220.0, "p5_hz": 180.0, "p95_hz": 300.0},
        "voice_embedding": [0.1, -0.2, 0.3] * 64,
        "quality": {"speaker_similarity": 0.81, "unavailable": {}, "unavailable_codes": {}},
        "training": {"epochs": 20, "f0_method": "rmvpe", "f0_unvoiced": "zero"},
        "epochs": 20,
    }
    lib.add("원본", assets["v2"], assets["index_v2"], source="trained", metadata=facts)
    out = lib.export_zip("원본", tmp_path / "round.zip")
    again = lib.import_zip(out, name="돌아온 모델").to_dict()
    for key in ("voice_profile", "quality", "training", "epochs"):
        assert again[key] == facts[key], key
    assert lib.get("돌아온 모델").metadata["voice_embedding"] == facts["voice_embedding"]
    original = lib.get("원본").to_dict()
    assert (again["f0_unvoiced"], again.get("embedder")) == (
        original["f0_unvoiced"],
        original.get("embedder"),
    )
    assert again["source"] == "upload"

    with zipfile.ZipFile(out) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    doc = json.loads(members["persona-model.json"])
    doc["facts"]["voice_embedding"] = ["not", "numbers"]
    doc["facts"]["quality"] = {"deep": {"deeper": {"deepest": {"too": 1}}}}
    doc["facts"]["source"] = "trained"  # not a carried fact
    members["persona-model.json"] = json.dumps(doc).encode()
    tampered = lib.import_zip(_zip(tmp_path / "tampered.zip", members), name="고친 모델")
    assert "voice_embedding" not in tampered.metadata and "quality" not in tampered.metadata
    assert (
        tampered.metadata["voice_profile"] == facts["voice_profile"]
        and tampered.metadata["source"] == "upload"
    )


def test_index_dimension_must_match_version(settings, assets):
    lib = ModelLibrary(settings)
    with pytest.raises(PersonaError) as err:
        lib.add("bad", assets["v1"], assets["index_v2"], source="upload")
    assert err.value.code == "index_invalid"
    assert lib.list() == []


def test_delete_refused_while_in_use(settings, assets):
    ModelLibrary(settings).add("busy", assets["v2"], source="upload")  # before its job was queued
    lib = ModelLibrary(settings, in_use=lambda name: name == "busy")
    with pytest.raises(PersonaError) as err:
        lib.delete("busy")
    assert err.value.code == "model_in_use" and err.value.status == 409
    assert lib.exists("busy")


def test_case_insensitive_collision(settings, assets):
    lib = ModelLibrary(settings)
    lib.add("Anna", assets["v2"], source="upload")
    with pytest.raises(PersonaError) as err:
        lib.add("anna", assets["v2"], source="upload")
    assert err.value.code == "model_exists"


def test_zip_prefers_exported_model_in_nested_folders(settings, assets, tmp_path):
    z = _zip(
        tmp_path / "m.zip",
        {
            "logs/voice/G_2333.pth": assets["v1"],
            "logs/voice/D_2333.pth": assets["v1"],
            "deep/nested/weights/voice.pth": assets["v2"],
            "other/readme.txt": b"hello",
            "__MACOSX/deep/._voice.pth": b"junk",
            "deep/idx/trained_IVF1_Flat_nprobe_1_voice_v2.index": assets["index_v2"],
            f"deep/idx/{assets['index_v2'].name}": assets["index_v2"],
        },
    )
    entry = ModelLibrary(settings).import_zip(z)
    assert entry.name == "voice"
    assert entry.metadata["imported_from"] == "deep/nested/weights/voice.pth"
    assert entry.index_path.name == assets["index_v2"].name
    assert "G_2333.pth" in entry.metadata["note"]


def test_zip_with_only_checkpoints_is_refused(settings, assets, tmp_path):
    z = _zip(tmp_path / "m.zip", {"G_100.pth": assets["v2"], "D_100.pth": assets["v2"]})
    with pytest.raises(PersonaError) as err:
        ModelLibrary(settings).import_zip(z)
    assert err.value.code == "model_invalid" and "checkpoint" in err.value.message


def _symlink_zip(path: Path, target: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("voice.pth")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, target)
    return path


def _lying_zip(path: Path) -> Path:
    """A member whose header declares 10 bytes but inflates to 10 MB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("voice.pth", b"\0" * (10 << 20))
    data = bytearray(buf.getvalue())
    # patch the uncompressed size in the central directory and the local header
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (10).to_bytes(4, "little")
    data[22:26] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    "make,code",
    [
        (lambda p, a: _zip(p, {"../evil.pth": a["v2"]}), "zip_unsafe"),
        (lambda p, a: _zip(p, {"/abs/voice.pth": a["v2"]}), "zip_unsafe"),
        (lambda p, a: _zip(p, {"ok/../../voice.pth": a["v2"]}), "zip_unsafe"),
        (lambda p, a: _symlink_zip(p, b"/etc/passwd"), "zip_unsafe"),
        (lambda p, a: _zip(p, {f"f{i}.txt": b"x" for i in range(70)}), "zip_too_large"),
        (lambda p, a: _zip(p, {"voice.pth": b"\0" * (3 << 20)}), "zip_too_large"),
        (
            lambda p, a: _lying_zip(p),
            ("zip_too_large", "zip_invalid"),
        ),  # zipfile stops at the declared size; CRC fails
        (lambda p, a: p.write_bytes(b"not a zip") and p, "zip_invalid"),
        (lambda p, a: _zip(p, {"readme.txt": b"no model"}), "model_invalid"),
        (lambda p, a: _zip(p, {"voice.pth": b"garbage"}), "model_invalid"),
        (lambda p, a: _zip(p, {"voice.pth": a["v1"], "added_x.index": a["index_v2"]}), "index_invalid"),
        (lambda p, a: _zip(p, {"voice.pth": a["v2"], "added_x.index": b"IwFlgarbage"}), "index_invalid"),
    ],
)
def test_hostile_zips_are_refused_and_store_unchanged(settings, assets, tmp_path, make, code):
    settings = settings.replace(max_zip_uncompressed_bytes=2 << 20)
    lib = ModelLibrary(settings)
    lib.add("keep", assets["v2"], source="upload")
    before = _snapshot(settings.models_dir)
    z = make(tmp_path / "bad.zip", assets)
    with pytest.raises(PersonaError) as err:
        lib.import_zip(z)
    assert err.value.code in (code if isinstance(code, tuple) else (code,)), err.value
    assert _snapshot(settings.models_dir) == before
    assert not (tmp_path / "evil.pth").exists()


def test_pickle_with_code_never_runs(settings, tmp_path):
    import pickle

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({"weight": Evil(), "config": []}))
    z = _zip(tmp_path / "evil.zip", {"voice.pth": evil})
    with pytest.raises(PersonaError) as err:
        ModelLibrary(settings).import_zip(z)
    assert err.value.code == "model_invalid"
    assert not marker.exists()


def test_existing_name_on_import_is_409(settings, assets, tmp_path):
    lib = ModelLibrary(settings)
    lib.add("voice", assets["v2"], source="upload")
    z = _zip(tmp_path / "m.zip", {"voice.pth": assets["v2"]})
    with pytest.raises(PersonaError) as err:
        lib.import_zip(z)
    assert err.value.code == "model_exists" and err.value.status == 409


def test_cover_library(settings, tmp_path):
    covers = CoverLibrary(settings)
    song = write_fixture_song(tmp_path / "c.wav", seconds=0.5)
    entry = covers.add(song, model="목소리", song_name="노래.mp3", pitch=2, duration_s=0.5)
    assert not song.exists()  # moved
    d = entry.to_dict()
    assert d["audio_url"] == f"/api/covers/{entry.id}/audio" and d["pitch"] == 2
    assert entry.filename == "노래 (목소리).wav"
    assert [c.id for c in covers.list()] == [entry.id]
    meta = json.loads((settings.covers_dir / entry.id / "metadata.json").read_text())
    assert meta["model"] == "목소리"
    for bad in ("../x", "zzzzzzzzzzzz", entry.id + "/.."):
        with pytest.raises(PersonaError):
            covers.get(bad)
    covers.delete(entry.id)
    assert covers.list() == []


def test_a_cover_tells_the_pitch_it_was_made_with(settings, tmp_path):
    """An automatic pitch is recorded as chosen; covers from before kept it as ``pitch_used``."""
    covers = CoverLibrary(settings)
    auto = {"options": {"pitch_auto": True}, "suggested_pitch": 7}
    made = covers.add(
        write_fixture_song(tmp_path / "a.wav", seconds=0.5), model="m", song_name="s", pitch=7, metadata=auto
    )
    assert (made.to_dict()["pitch"], made.to_dict()["pitch_auto"]) == (7, True)
    older = covers.add(
        write_fixture_song(tmp_path / "b.wav", seconds=0.5),
        model="m",
        song_name="s",
        pitch=0,
        metadata={**auto, "pitch_used": 5.0},
    )
    assert (older.to_dict()["pitch"], older.to_dict()["pitch_auto"]) == (5.0, True)
    manual = covers.add(
        write_fixture_song(tmp_path / "c.wav", seconds=0.5), model="m", song_name="s", pitch=-3
    )
    assert (manual.to_dict()["pitch"], manual.to_dict()["pitch_auto"]) == (-3, False)


def test_a_cover_job_records_the_pitch_the_pipeline_used(settings, tmp_path, monkeypatch):
    """Asked for an automatic pitch, the cover keeps the shift the pipeline chose, not the 0 sent."""
    import persona.cover
    from persona.cover.request import CoverResult
    from persona.jobs.handlers import JobContext, run_cover
    from persona.progress import CancelToken, null_progress

    def fake_make_cover(settings, request, progress, cancel, resolve_model, **_):
        assert request.pitch_auto
        write_fixture_song(request.output, seconds=0.5)
        return CoverResult(request.output, 0.5, 44100, "wav", 4.0, 4, {}, False, -14.0, -1.0, True)

    monkeypatch.setattr(persona.cover, "make_cover", fake_make_cover)
    workdir = tmp_path / "job"
    write_fixture_song(workdir / "inputs" / "01.wav", seconds=0.5)
    params = {"model": "m", "pitch": 0, "options": {"pitch_auto": True}, "_song": "01.wav", "song_name": "s"}
    ctx = JobContext(settings, "j1", "cover", params, 1, workdir, null_progress, CancelToken())
    cover = CoverLibrary(settings).get(run_cover(ctx)["cover_id"]).to_dict()
    assert (cover["pitch"], cover["pitch_auto"], cover["suggested_pitch"]) == (4.0, True, 4)
