"""HTTP API through the Flask test client: every route, bad inputs (4xx, store unchanged), token, Range, SPA."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from persona.jobs import JobStore
from persona.library import CoverLibrary, ModelLibrary
from persona.testing.home import write_fixture_index, write_fixture_model, write_fixture_song
from persona.testing.uploads import upload


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("srvfix")
    pth = write_fixture_model(d / "voice.pth", version="v2")
    index = write_fixture_index(d / "idx", version="v2", exp_name="voice")
    z = d / "voice.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(pth, "weights/voice.pth")
        zf.write(index, f"logs/{index.name}")
    bad_index = d / "bad.zip"
    with zipfile.ZipFile(bad_index, "w") as zf:
        zf.write(write_fixture_model(d / "v1.pth", version="v1"), "v1.pth")
        zf.write(index, index.name)
    traversal = d / "trav.zip"
    with zipfile.ZipFile(traversal, "w") as zf:
        zf.write(pth, "../../voice.pth")
    return {
        "pth": pth,
        "zip": z,
        "zip_bad_index": bad_index,
        "zip_traversal": traversal,
        "song": write_fixture_song(d / "song.wav", seconds=1.0),
        "long": write_fixture_song(d / "long.wav", seconds=4.0),
        "noise": d / "noise.wav",
    }


@pytest.fixture
def app(settings, files, make_app):
    files["noise"].write_bytes(b"RIFF....WAVEnot really audio" * 10)
    ModelLibrary(settings).add("보컬", files["pth"], source="upload")
    return make_app(jobs_need_assets=False)  # no worker runs these jobs


def _state(settings) -> tuple:
    """Everything a bad request must leave untouched."""

    def tree(root: Path):
        return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []

    jobs_files = [p for p in tree(settings.jobs_dir) if not p.startswith(("jobs.sqlite3", "queue.sqlite3"))]
    return (
        tree(settings.models_dir),
        tree(settings.covers_dir),
        jobs_files,
        len(JobStore(settings).list(limit=10_000)),
    )


def test_health_and_openapi_cover_every_route(app, client):
    h = client.get("/api/health").get_json()
    assert (
        h["status"] == "ok"
        and h["device"] == "cpu"
        and "assets" in h
        and h["jobs"] == {"queued": 0, "running": 0}
    )
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        assert path in doc["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"][path], (path, method)


def test_health_options_are_the_request_types_own(client):
    """The page offers what the server accepts: health and OpenAPI carry TrainRequest's and
    CoverRequest's limits, choices and defaults (one source, ``TRAIN_PARAMS``/``COVER_PARAMS``)."""
    from persona.cover.request import CoverRequest
    from persona.rvc.options import F0_METHODS, ConversionOptions
    from persona.training.request import MAX_BATCH, MAX_EPOCHS, TrainRequest

    options = client.get("/api/health").get_json()["options"]
    train, cover = options["train"], options["cover"]
    blank = TrainRequest(name="x")
    assert train["epochs"] == {"type": "integer", "min": 1, "max": MAX_EPOCHS, "default": blank.epochs}
    assert train["batch_size"]["default"] == blank.batch_size == 4 and train["batch_size"]["max"] == MAX_BATCH
    assert train["save_every"]["default"] == blank.save_every == 5
    assert train["sample_rate"] == {"type": "string", "choices": ["32k", "40k", "48k"], "default": "40k"}
    assert train["f0_method"]["choices"] == list(F0_METHODS) and train["f0_method"]["default"] == "rmvpe"
    assert train["f0_unvoiced"] == {"type": "string", "choices": ["zero", "interpolate"], "default": "zero"}
    conv, req = ConversionOptions(), CoverRequest(song="s.wav", model="m")
    assert cover["pitch"] == {"type": "number", "min": -24.0, "max": 24.0, "default": conv.pitch}
    assert cover["protect"]["max"] == 0.5 and cover["protect"]["default"] == conv.protect
    assert cover["f0_unvoiced"] == {
        "type": "string",
        "choices": ["auto", "zero", "interpolate"],
        "default": "auto",
    }
    assert cover["filter_radius"]["type"] == "integer" and cover["index_rate"]["default"] == conv.index_rate
    assert cover["vocal_gain"]["default"] == req.vocal_gain_db and cover["vocal_gain"]["max"] == 12.0
    assert cover["separation_model"]["choices"] == ["auto", "bs_roformer", "htdemucs"]
    assert cover["backing"]["default"] == req.backing and cover["key_mode"]["default"] == req.key_mode
    assert cover["dereverb"] == {"type": "boolean", "default": False}
    doc = client.get("/api/openapi.json").get_json()
    form = doc["paths"]["/api/trainings"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert form["schema"]["properties"]["batch_size"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_BATCH,
        "default": 4,
    }
    schemas = doc["components"]["schemas"]
    assert schemas["CoverForm"]["properties"]["f0_method"]["enum"] == list(F0_METHODS)
    assert schemas["CoverForm"]["properties"]["f0_unvoiced"]["enum"] == ["auto", "zero", "interpolate"]
    assert schemas["TrainForm"]["properties"]["f0_unvoiced"]["enum"] == ["zero", "interpolate"]
    assert set(schemas["Health"]["properties"]["options"]["properties"]["cover"]["properties"]) == set(cover)


def test_training_form_keeps_what_the_client_set(settings):
    from persona.server.validation import training_form
    from persona.training.request import TrainRequest

    params = training_form({"epochs": "3", "save_every": "10", "f0_method": "PM"}, settings)
    assert params == {"epochs": 3, "save_every": 10, "f0_method": "pm"}
    request = TrainRequest.from_params({**params, "name": "목소리"}, [Path("a.wav")], resume=True).validate()
    # the request clamps, for the API and the CLI alike: "every 10" of a 3-epoch run saves at the end
    assert (request.epochs, request.save_every, request.batch_size, request.resume) == (3, 3, 4, True)
    assert TrainRequest.from_params({"name": "n"}, [], model_size="tiny").model_size == "tiny"
    with pytest.raises(TypeError):
        TrainRequest.from_params({"name": "n"}, [], no_such_field=1)


def test_models_upload_get_download_delete(client, files, settings):
    r = client.post(
        "/api/models/upload", data={"file": upload(files["zip"])}, content_type="multipart/form-data"
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["name"] == "voice" and body["has_index"] and body["version"] == "v2"
    assert "weights/voice.pth" in body["note"]
    names = [m["name"] for m in client.get("/api/models").get_json()]
    assert sorted(names) == sorted(["voice", "보컬"])
    assert client.get("/api/models/%EB%B3%B4%EC%BB%AC").get_json()["name"] == "보컬"
    r = client.get("/api/models/voice/download")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.data)) as zf:
        assert "voice.pth" in zf.namelist() and any(n.endswith(".index") for n in zf.namelist())
    r = client.post(
        "/api/models/upload", data={"file": upload(files["zip"])}, content_type="multipart/form-data"
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "model_exists"
    assert client.delete("/api/models/voice").status_code == 204
    assert client.get("/api/models/voice").status_code == 404


def test_training_and_cover_jobs_are_queued_and_cancelled(client, files, settings):
    r = client.post(
        "/api/trainings",
        data={
            "name": "새 목소리",
            "epochs": "3",
            "batch_size": "2",
            "f0_method": "rmvpe",
            "files": [upload(files["song"]), upload(files["long"], "두번째.wav")],
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 202, r.get_json()
    job_id = r.get_json()["job_id"]
    assert r.get_json()["model_name"] == "새 목소리"
    job = client.get(f"/api/jobs/{job_id}").get_json()
    assert job["status"] == "queued" and job["kind"] == "train"
    assert [f["name"] for f in job["params"]["files"]] == ["song.wav", "두번째.wav"]
    assert "_files" not in job["params"]
    assert sorted(p.name for p in (settings.jobs_dir / job_id / "inputs").iterdir()) == ["01.wav", "02.wav"]
    # the same name again while that job is queued: 409
    r = client.post(
        "/api/trainings",
        data={"name": "새 목소리", "epochs": "3", "files": [upload(files["song"])]},
        content_type="multipart/form-data",
    )
    assert r.status_code == 409
    # the model a cover job uses cannot be deleted meanwhile
    r = client.post(
        "/api/covers",
        data={"model": "보컬", "pitch": "-3", "song": upload(files["song"])},
        content_type="multipart/form-data",
    )
    assert r.status_code == 202, r.get_json()
    cover_job = r.get_json()["job_id"]
    assert client.delete("/api/models/보컬").get_json()["error"]["code"] == "model_in_use"
    r = client.post(f"/api/jobs/{cover_job}/cancel")
    assert r.status_code == 202 and r.get_json()["status"] == "cancelled"
    assert client.post(f"/api/jobs/{cover_job}/cancel").status_code == 409
    assert client.delete("/api/models/보컬").status_code == 204
    jobs = client.get("/api/jobs?status=queued").get_json()
    assert [j["id"] for j in jobs] == [job_id]
    assert client.get("/api/jobs?kind=cover").get_json()[0]["status"] == "cancelled"


def _training(f, **over):
    data = {"name": "ok", "epochs": "2", "files": [upload(f["song"])]}
    data.update(over)
    return "/api/trainings", data


def _cover(f, **over):
    data = {"model": "보컬", "pitch": "0", "song": upload(f["song"])}
    data.update(over)
    return "/api/covers", data


BAD_INPUTS = [
    # (id, builder(files) -> (url, data), status, code)
    ("train-no-files", lambda f: _training(f, files=[]), 400, "files_missing"),
    (
        "train-6-files",
        lambda f: _training(f, files=[upload(f["song"]) for _ in range(6)]),
        400,
        "too_many_files",
    ),
    (
        "train-not-audio-ext",
        lambda f: _training(f, files=[(io.BytesIO(b"x" * 100), "a.exe")]),
        400,
        "file_type",
    ),
    ("train-undecodable", lambda f: _training(f, files=[upload(f["noise"])]), 400, "audio_unreadable"),
    ("train-empty-file", lambda f: _training(f, files=[(io.BytesIO(b""), "a.wav")]), 400, "audio_empty"),
    ("train-no-name", lambda f: _training(f, name=""), 400, "name_invalid"),
    ("train-bad-name", lambda f: _training(f, name="../../etc"), 400, "name_invalid"),
    ("train-reserved-name", lambda f: _training(f, name="CON"), 400, "name_invalid"),
    ("train-existing-name", lambda f: _training(f, name="보컬"), 409, "model_exists"),
    ("train-epochs-0", lambda f: _training(f, epochs="0"), 400, "param_out_of_range"),
    ("train-epochs-huge", lambda f: _training(f, epochs="100000"), 400, "param_out_of_range"),
    ("train-epochs-text", lambda f: _training(f, epochs="many"), 400, "param_invalid"),
    ("train-epochs-nan", lambda f: _training(f, epochs="nan"), 400, "param_invalid"),
    ("train-epochs-fraction", lambda f: _training(f, epochs="2.5"), 400, "param_invalid"),
    ("train-batch-0", lambda f: _training(f, batch_size="0"), 400, "param_out_of_range"),
    ("train-bad-rate", lambda f: _training(f, sample_rate="44k"), 400, "param_invalid"),
    ("train-bad-f0", lambda f: _training(f, f0_method="magic"), 400, "param_invalid"),
    ("train-bad-f0-unvoiced", lambda f: _training(f, f0_unvoiced="auto"), 400, "param_invalid"),
    ("train-file-too-big", lambda f: _training(f, files=[upload(f["long"])]), 400, "file_too_large"),
    (
        "train-too-long-total",
        lambda f: _training(f, files=[upload(f["song"]), upload(f["song"])]),
        400,
        "audio_too_long",
    ),
    ("cover-no-model", lambda f: _cover(f, model=""), 400, "param_invalid"),
    ("cover-unknown-model", lambda f: _cover(f, model="nobody"), 404, "model_not_found"),
    ("cover-traversal-model", lambda f: _cover(f, model="../models/보컬"), 404, "model_not_found"),
    ("cover-no-song", lambda f: _cover(f, song=None), 400, "files_missing"),
    ("cover-pitch-high", lambda f: _cover(f, pitch="25"), 400, "param_out_of_range"),
    ("cover-pitch-text", lambda f: _cover(f, pitch="up"), 400, "param_invalid"),
    ("cover-index-rate", lambda f: _cover(f, index_rate="1.5"), 400, "param_out_of_range"),
    ("cover-protect", lambda f: _cover(f, protect="0.9"), 400, "param_out_of_range"),
    ("cover-f0-unvoiced", lambda f: _cover(f, f0_unvoiced="fill"), 400, "param_invalid"),
    ("cover-filter-radius", lambda f: _cover(f, filter_radius="-1"), 400, "param_out_of_range"),
    ("cover-format", lambda f: _cover(f, format="exe"), 400, "param_invalid"),
    ("cover-undecodable", lambda f: _cover(f, song=upload(f["noise"])), 400, "audio_unreadable"),
    ("cover-song-too-long", lambda f: _cover(f, song=upload(f["long"])), 400, "audio_too_long"),
    ("model-no-file", lambda f: ("/api/models/upload", {}), 400, "file_missing"),
    ("model-not-zip-name", lambda f: ("/api/models/upload", {"file": upload(f["pth"])}), 400, "file_type"),
    (
        "model-not-zip-bytes",
        lambda f: ("/api/models/upload", {"file": (io.BytesIO(b"PK\x03\x04 nope"), "m.zip")}),
        400,
        "zip_invalid",
    ),
    (
        "model-traversal",
        lambda f: ("/api/models/upload", {"file": upload(f["zip_traversal"])}),
        400,
        "zip_unsafe",
    ),
    (
        "model-index-mismatch",
        lambda f: ("/api/models/upload", {"file": upload(f["zip_bad_index"])}),
        400,
        "index_invalid",
    ),
    (
        "model-bad-name",
        lambda f: ("/api/models/upload", {"file": upload(f["zip"]), "name": "a/b"}),
        400,
        "name_invalid",
    ),
    (
        "model-existing-name",
        lambda f: ("/api/models/upload", {"file": upload(f["zip"]), "name": "보컬"}),
        409,
        "model_exists",
    ),
]


@pytest.mark.parametrize("build,status,code", [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS])
def test_bad_inputs_are_4xx_and_change_nothing(settings, files, build, status, code, make_client):
    settings = settings.replace(
        max_training_file_bytes=100_000, max_training_total_seconds=1.5, max_song_seconds=3.0
    )
    files["noise"].write_bytes(b"RIFF....WAVEnot really audio" * 10)
    ModelLibrary(settings).add("보컬", files["pth"], source="upload")
    client = make_client(settings)
    before = _state(settings)
    url, data = build(files)
    data = {k: v for k, v in data.items() if v is not None}
    r = client.post(url, data=data, content_type="multipart/form-data")
    body = r.get_json()
    assert r.status_code == status, body
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    assert _state(settings) == before


def test_unknown_routes_and_ids(client):
    for url in ("/api/nope", "/api/jobs/doesnotexist", "/api/covers/zzz", "/api/covers/../../etc/passwd"):
        r = client.get(url)
        assert r.status_code == 404 and "error" in r.get_json()
    r = client.put("/api/models")
    assert r.status_code == 405 and r.get_json()["error"]["code"]


def test_upload_over_the_request_limit_is_413(settings, files, make_client):
    small = settings.replace(max_upload_bytes=1000, max_training_file_bytes=1000)  # request limit ~1 MiB
    client = make_client(small)
    big = (io.BytesIO(b"\0" * 3_000_000), "big.zip")
    r = client.post("/api/models/upload", data={"file": big}, content_type="multipart/form-data")
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "upload_too_large"


def test_cover_audio_range_download_delete(client, settings, files, tmp_path):
    song = write_fixture_song(tmp_path / "c.wav", seconds=0.5)
    size = song.stat().st_size
    entry = CoverLibrary(settings).add(song, model="보컬", song_name="노래.mp3", pitch=1, duration_s=0.5)
    listed = client.get("/api/covers").get_json()
    assert listed[0]["id"] == entry.id and listed[0]["audio_url"] == f"/api/covers/{entry.id}/audio"
    r = client.get(f"/api/covers/{entry.id}/audio", headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and len(r.data) == 100
    assert r.headers["Content-Range"] == f"bytes 100-199/{size}" and r.mimetype == "audio/wav"
    r = client.get(f"/api/covers/{entry.id}/audio")
    assert r.status_code == 200 and len(r.data) == size and r.headers["Accept-Ranges"] == "bytes"
    assert (
        client.get(f"/api/covers/{entry.id}/audio", headers={"Range": f"bytes={size + 10}-"}).status_code
        == 416
    )
    r = client.get(f"/api/covers/{entry.id}/download")
    assert (
        "attachment" in r.headers["Content-Disposition"]
        and r.data == (settings.covers_dir / entry.id / "cover.wav").read_bytes()
    )
    assert client.delete(f"/api/covers/{entry.id}").status_code == 204
    assert client.get(f"/api/covers/{entry.id}").status_code == 404


def test_token_guards_every_api_route(settings, make_client):
    client = make_client(token="s3cret")
    for url in ("/api/health", "/api/models", "/api/jobs", "/api/covers", "/api/openapi.json"):
        r = client.get(url)
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    assert client.get("/api/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/health", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/api/health?token=s3cret").status_code == 200
    assert client.post("/api/trainings").status_code == 401
    assert client.get("/").status_code == 200  # the page itself loads (it then asks for the token)


def test_spa_serves_build_with_deep_link_fallback(settings, tmp_path, make_client):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<div id=root>persona</div>")
    (dist / "assets" / "app-1234.js").write_text("console.log(1)")
    client = make_client(web_dist=dist)
    for url in ("/", "/train", "/models/%EB%B3%B4%EC%BB%AC", "/covers/abc123abc123", "/library"):
        r = client.get(url)
        assert r.status_code == 200 and b"persona" in r.data, url
    r = client.get("/assets/app-1234.js")
    assert r.data == b"console.log(1)" and r.cache_control.immutable
    assert client.get("/assets/missing.js").status_code == 404
    assert client.get("/api/unknown").get_json()["error"]["code"] == "not_found"
    assert (
        client.get("/../../etc/passwd").status_code in (404, 200)
        and b"root:" not in client.get("/../../etc/passwd").data
    )


def test_web_process_never_imports_torch_for_reads(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from persona.server import create_app; import persona.server.run;"
        "from persona.settings import Settings;"
        f"c = create_app(Settings(home=Path({str(tmp_path)!r}))).test_client();"
        "[c.get(u) for u in ('/api/health', '/api/models', '/api/jobs', '/api/covers', '/api/openapi.json')];"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_library_cli_import_models_export(settings, files, tmp_path, capsys):
    from persona.cli import main

    common = ["--home", str(settings.home), "--assets", str(settings.assets), "--device", "cpu"]
    assert main([*common, "import", str(files["zip"]), "--name", "cli voice"]) == 0
    assert "imported cli voice" in capsys.readouterr().out
    assert main([*common, "models"]) == 0
    assert "cli voice" in capsys.readouterr().out
    out = tmp_path / "x.zip"
    assert main([*common, "export", "cli voice", str(out)]) == 0
    assert zipfile.ZipFile(out).namelist()[0] == "cli voice.pth"
    assert main([*common, "import", str(files["zip"]), "--name", "cli voice"]) == 2  # exists: bad input
    assert "model_exists" in capsys.readouterr().err
