"""AssetManager against a local HTTP server: download, resume, checksums, status cache, import."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest

from persona.assets import MANIFEST, Asset, AssetFile, AssetManager
from persona.assets import manifest as manifest_mod
from persona.assets import verify as verify_mod
from persona.errors import Cancelled, PersonaError
from persona.progress import CancelToken
from persona.settings import Settings
from persona.testing.http import FileServer

HF = "https://huggingface.co/lj1995/VoiceConversionWebUI/resolve/main"
URL_PATH = "/lj1995/VoiceConversionWebUI/resolve/main"


def _blob(n: int, seed: int) -> bytes:
    return hashlib.shake_256(f"blob-{seed}".encode()).digest(n)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


DATA = {
    "hubert_base/config.json": b'{"model_type": "hubert"}',
    "hubert_base/preprocessor_config.json": b'{"do_normalize": false}',
    "hubert_base/pytorch_model.bin": _blob(300_000, 1),
    "rmvpe.pt": _blob(2_500_000, 2),
    "pretrained_v2/f0G40k.pth": _blob(700_000, 3),
}


def _file(path: str, *, size: bool = True, sha: bool = True, optional: bool = False) -> AssetFile:
    data = DATA[path]
    return AssetFile(path, f"{HF}/{path}", len(data) if size else None, _sha(data) if sha else None, optional)


def make_manifest() -> dict[str, Asset]:
    return {
        "hubert_base": Asset(
            "hubert_base",
            (
                _file("hubert_base/config.json"),
                _file("hubert_base/preprocessor_config.json", optional=True),
                _file("hubert_base/pytorch_model.bin"),
            ),
            "test hubert folder",
            "content",
            default=True,
            alternates=("hubert_base",),
            present_when=(("config.json",), ("pytorch_model.bin", "model.safetensors")),
        ),
        "rmvpe.pt": Asset(
            "rmvpe.pt", (_file("rmvpe.pt"),), "test rmvpe", "f0", default=True, alternates=("rmvpe/rmvpe.pt",)
        ),
        # No published size or hash: the first download records one.
        "pretrained_v2/f0G40k.pth": Asset(
            "pretrained_v2/f0G40k.pth",
            (_file("pretrained_v2/f0G40k.pth", size=False, sha=False),),
            "test generator",
            "pretrained",
            alternates=("pretrained_v2/f0G40k.pth",),
        ),
    }


@pytest.fixture
def server():
    with FileServer() as srv:
        for path, data in DATA.items():
            srv.put(f"{URL_PATH}/{path}", data)
        yield srv


@pytest.fixture
def manager(settings: Settings, server: FileServer) -> AssetManager:
    return AssetManager(settings.replace(asset_base_url=server.url), make_manifest(), retries=3, backoff=0.0)


def _leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.name.endswith((".part", ".tmp")))


# ------------------------------------------------------------------------------- the manifest


def test_real_manifest_lists_every_needed_weight() -> None:
    names = set(MANIFEST)
    assert {"hubert_base", "hubert_base.pt", "rmvpe.pt", "fcpe.pt"} <= names
    for rate in ("32k", "40k", "48k"):
        for kind in ("f0G", "f0D", "G", "D"):
            assert f"pretrained_v2/{kind}{rate}.pth" in names
    hubert = MANIFEST["hubert_base"]
    assert hubert.is_folder and {f.path for f in hubert.files} >= {
        "hubert_base/config.json",
        "hubert_base/pytorch_model.bin",
    }
    for asset in MANIFEST.values():
        for f in asset.files:
            assert f.url.startswith("https://")
            if asset.group in ("content", "f0", "pretrained"):
                assert f.url.startswith("https://huggingface.co/") and f.url.endswith(f.path.split("/")[-1])
            assert f.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", f.sha256)
    # Values pinned identically by several public projects.
    assert MANIFEST["rmvpe.pt"].files[0].size == 181184272
    assert MANIFEST["hubert_base.pt"].files[0].sha256.startswith("f54b40fd")
    assert {a.name for a in manifest_mod.select(None)} >= {
        "hubert_base",
        "rmvpe.pt",
        "pretrained_v2/f0G40k.pth",
        "pretrained_v2/f0D40k.pth",
    }
    assert len(manifest_mod.select(["pretrained_v2/*"])) == 12
    with pytest.raises(KeyError):
        manifest_mod.select(["nope.pt"])


def test_register_extends_the_manifest() -> None:
    asset = Asset(
        "separation/test.ckpt",
        (AssetFile("separation/test.ckpt", "https://huggingface.co/x/y/resolve/main/test.ckpt"),),
        "a separation model",
        "separation",
    )
    try:
        manifest_mod.register(asset)
        assert manifest_mod.get("separation/test.ckpt") is asset
        with pytest.raises(ValueError):
            manifest_mod.register(asset)
    finally:
        MANIFEST.pop("separation/test.ckpt", None)


def test_url_override(settings: Settings) -> None:
    m = AssetManager(settings.replace(asset_base_url="http://mirror.local:8080/"), make_manifest())
    assert m.url(m.asset("rmvpe.pt").files[0]) == f"http://mirror.local:8080{URL_PATH}/rmvpe.pt"
    assert AssetManager(settings, make_manifest()).url(m.asset("rmvpe.pt").files[0]) == f"{HF}/rmvpe.pt"


# ------------------------------------------------------------------------------ status / path


def test_status_and_path_when_empty(manager: AssetManager) -> None:
    report = manager.status()
    assert {n: s.state for n, s in report.items()} == dict.fromkeys(make_manifest(), "missing")
    with pytest.raises(PersonaError) as err:
        manager.path("rmvpe.pt")
    assert err.value.code == "asset_missing" and "persona assets download rmvpe.pt" in err.value.message
    with pytest.raises(PersonaError) as err:
        manager.path("nope.pt")
    assert err.value.code == "asset_unknown"


def test_download_verifies_and_places_everything(manager: AssetManager) -> None:
    events = []
    report = manager.download(["all"], progress=lambda stage, f, msg="", **m: events.append((stage, f, m)))
    assert {n: s.state for n, s in report.items()} == dict.fromkeys(make_manifest(), "present")
    root = manager.root
    for path, data in DATA.items():
        assert (root / path).read_bytes() == data
    assert manager.path("hubert_base") == root / "hubert_base"
    assert manager.path("rmvpe.pt").read_bytes() == DATA["rmvpe.pt"]
    assert _leftovers(root) == []
    assert not any((root / ".partial").iterdir()) if (root / ".partial").exists() else True
    fractions = [f for s, f, _ in events if s == "download"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(m.get("bytes_done", 0) > 0 for _, _, m in events)
    # The unknown hash was recorded on first download.
    cache = json.loads((root / verify_mod.CACHE_NAME).read_text())
    assert cache["recorded"]["pretrained_v2/f0G40k.pth"] == _sha(DATA["pretrained_v2/f0G40k.pth"])


def test_second_download_fetches_nothing(manager: AssetManager, server: FileServer) -> None:
    manager.download()
    n = len(server.requests)
    assert {p for p, _ in server.requests} == {
        f"{URL_PATH}/{p}" for p in DATA if not p.startswith("pretrained")
    }  # default set only
    manager.download()
    assert len(server.requests) == n


def test_resume_after_dropped_connection(manager: AssetManager, server: FileServer) -> None:
    path = f"{URL_PATH}/rmvpe.pt"
    server.drop(path, after=1_000_000, times=1)
    manager.download(["rmvpe.pt"])
    assert manager.path("rmvpe.pt").read_bytes() == DATA["rmvpe.pt"]
    ranges = [r for p, r in server.requests if p == path]
    assert ranges[0] is None and ranges[1] is not None
    resumed_from = int(re.match(r"bytes=(\d+)-", ranges[1]).group(1))
    assert resumed_from >= 1_000_000 - 1024 * 1024  # not from zero


def test_resume_across_calls_keeps_the_part(settings: Settings, server: FileServer) -> None:
    manager = AssetManager(
        settings.replace(asset_base_url=server.url), make_manifest(), retries=0, backoff=0.0
    )
    path = f"{URL_PATH}/rmvpe.pt"
    server.drop(path, after=600_000, times=1)
    with pytest.raises(PersonaError) as err:
        manager.download(["rmvpe.pt"])
    assert err.value.code == "download_failed" and "resume" in err.value.message
    part = manager.root / ".partial" / "rmvpe.pt.part"
    assert 0 < part.stat().st_size < len(DATA["rmvpe.pt"])
    assert not (manager.root / "rmvpe.pt").exists()  # nothing in place yet
    kept = part.stat().st_size
    manager.download(["rmvpe.pt"])
    assert (manager.root / "rmvpe.pt").read_bytes() == DATA["rmvpe.pt"]
    assert [r for p, r in server.requests if p == path][-1] == f"bytes={kept}-"
    assert not part.exists()


def test_server_ignoring_range_restarts_cleanly(manager: AssetManager, server: FileServer) -> None:
    part = manager.root / ".partial" / "rmvpe.pt.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(DATA["rmvpe.pt"][:1000])
    server.ignore_range = True
    manager.download(["rmvpe.pt"])
    assert (manager.root / "rmvpe.pt").read_bytes() == DATA["rmvpe.pt"]


def test_checksum_mismatch_leaves_nothing(manager: AssetManager, server: FileServer) -> None:
    bad = bytearray(DATA["rmvpe.pt"])
    bad[12345] ^= 0xFF
    server.put(f"{URL_PATH}/rmvpe.pt", bytes(bad))
    with pytest.raises(PersonaError) as err:
        manager.download(["rmvpe.pt"])
    assert err.value.code == "asset_checksum_mismatch" and "rmvpe.pt" in err.value.message
    assert not (manager.root / "rmvpe.pt").exists()
    assert _leftovers(manager.root) == []
    assert manager.status(["rmvpe.pt"])["rmvpe.pt"].state == "missing"


def test_wrong_size_from_server_is_refused(manager: AssetManager, server: FileServer) -> None:
    server.put(f"{URL_PATH}/hubert_base/pytorch_model.bin", DATA["hubert_base/pytorch_model.bin"][:-10])
    with pytest.raises(PersonaError) as err:
        manager.download(["hubert_base"])
    assert err.value.code in ("asset_checksum_mismatch", "download_failed")
    assert not (manager.root / "hubert_base").exists()


def test_http_404_is_a_clear_error(manager: AssetManager, server: FileServer) -> None:
    server.files.pop(f"{URL_PATH}/rmvpe.pt")
    with pytest.raises(PersonaError) as err:
        manager.download(["rmvpe.pt"])
    assert err.value.code == "download_failed" and "404" in err.value.message
    assert _leftovers(manager.root) == []


def test_unknown_name(manager: AssetManager) -> None:
    with pytest.raises(PersonaError) as err:
        manager.download(["rmvpe.pth"])
    assert err.value.code == "asset_unknown" and "did you mean rmvpe.pt" in err.value.message


def test_cancel_keeps_the_part(manager: AssetManager) -> None:
    token = CancelToken()

    def progress(stage, fraction, message="", **metrics):
        if metrics.get("bytes_done", 0) > 0:
            token.cancel()

    with pytest.raises(Cancelled):
        manager.download(["rmvpe.pt"], progress=progress, cancel=token)
    assert not (manager.root / "rmvpe.pt").exists()
    manager.download(["rmvpe.pt"])
    assert manager.path("rmvpe.pt").read_bytes() == DATA["rmvpe.pt"]


def test_status_detects_corruption_and_caches_hashes(manager: AssetManager, monkeypatch) -> None:
    manager.download(["all"])
    calls = []
    real = verify_mod.sha256_file
    monkeypatch.setattr(verify_mod, "sha256_file", lambda p, *a: calls.append(p) or real(p, *a))
    assert all(s.state == "present" for s in manager.status().values())
    assert calls == []  # every hash came from the cache
    target = manager.root / "rmvpe.pt"
    data = bytearray(target.read_bytes())
    data[0] ^= 1
    target.write_bytes(bytes(data))
    os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 5_000_000_000))
    report = manager.status()
    assert report["rmvpe.pt"].state == "corrupt" and "sha256" in report["rmvpe.pt"].detail
    assert [Path(c).name for c in calls] == ["rmvpe.pt"]
    # A recorded hash protects files that have no published one.
    gen = manager.root / "pretrained_v2/f0G40k.pth"
    gen.write_bytes(b"x" + gen.read_bytes()[1:])
    os.utime(gen, ns=(gen.stat().st_atime_ns, gen.stat().st_mtime_ns + 5_000_000_000))
    assert manager.status(["pretrained_v2/f0G40k.pth"])["pretrained_v2/f0G40k.pth"].state == "corrupt"
    # Truncation is seen from the size alone, even without hashing.
    target.write_bytes(b"short")
    assert manager.status(["rmvpe.pt"], verify=False)["rmvpe.pt"].state == "corrupt"
    # Download repairs the corrupt one.
    manager.download(["rmvpe.pt"])
    assert manager.status(["rmvpe.pt"])["rmvpe.pt"].state == "present"


def test_custom_hubert_folder_counts_as_unverified(manager: AssetManager) -> None:
    folder = manager.root / "hubert_base"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"weights")
    assert manager.path("hubert_base") == folder
    assert manager.status(["hubert_base"])["hubert_base"].state == "unverified"
    assert manager.status(["hubert_base"])["hubert_base"].present


# ---------------------------------------------------------------------------------- import


def _write_tree(root: Path, layout: dict[str, bytes]) -> Path:
    for rel, data in layout.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


def test_import_our_layout(tmp_path: Path, manager: AssetManager) -> None:
    src = _write_tree(tmp_path / "ours", DATA)
    results = manager.import_dir(src)
    assert results == dict.fromkeys(make_manifest(), "imported")
    assert all(s.state == "present" for s in manager.status().values())
    assert (manager.root / "hubert_base/preprocessor_config.json").exists()
    assert manager.import_dir(src) == dict.fromkeys(make_manifest(), "already present")
    assert _leftovers(manager.root) == []


def test_import_rvc_layout(tmp_path: Path, manager: AssetManager) -> None:
    rvc = tmp_path / "Retrieval-based-Voice-Conversion-WebUI"
    _write_tree(
        rvc / "assets",
        {
            "hubert_base/config.json": DATA["hubert_base/config.json"],
            "hubert_base/pytorch_model.bin": DATA["hubert_base/pytorch_model.bin"],
            "rmvpe/rmvpe.pt": DATA["rmvpe.pt"],
            "pretrained_v2/f0G40k.pth": DATA["pretrained_v2/f0G40k.pth"],
            "weights/someone.pth": b"user model, not an asset",
        },
    )
    # Both RVC's project folder and its assets/ folder are accepted.
    for src in (rvc, rvc / "assets"):
        results = manager.import_dir(src)
        assert set(results) == set(make_manifest())
    assert manager.path("rmvpe.pt").read_bytes() == DATA["rmvpe.pt"]
    assert manager.status()["hubert_base"].state == "present"
    assert not (manager.root / "weights").exists()


def test_import_refuses_corrupt_files(tmp_path: Path, manager: AssetManager) -> None:
    src = _write_tree(tmp_path / "bad", {"rmvpe/rmvpe.pt": DATA["rmvpe.pt"][:-1] + b"\0"})
    results = manager.import_dir(src)
    assert results["rmvpe.pt"].startswith("corrupt")
    assert not (manager.root / "rmvpe.pt").exists()
    assert _leftovers(manager.root) == [] and not list(manager.root.rglob(".rmvpe.pt*"))


def test_import_bad_dirs(tmp_path: Path, manager: AssetManager) -> None:
    with pytest.raises(PersonaError) as err:
        manager.import_dir(tmp_path / "missing")
    assert err.value.code == "import_dir_missing"
    (tmp_path / "empty").mkdir()
    with pytest.raises(PersonaError) as err:
        manager.import_dir(tmp_path / "empty")
    assert err.value.code == "assets_not_found"


def test_concurrent_download_of_the_same_part_is_refused(manager: AssetManager) -> None:
    import fcntl

    part = manager.root / ".partial" / "rmvpe.pt.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    with part.open("ab") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # "another process"
        with pytest.raises(PersonaError) as err:
            manager.download(["rmvpe.pt"])
        assert err.value.code == "asset_busy"
    manager.download(["rmvpe.pt"])
    assert manager.status(["rmvpe.pt"])["rmvpe.pt"].state == "present"


def test_default_download_keeps_a_custom_folder(manager: AssetManager) -> None:
    folder = manager.root / "hubert_base"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"weights")
    manager.download()
    assert (folder / "model.safetensors").exists()
    manager.download(["hubert_base"])  # named: replaced by the real files
    assert not (folder / "model.safetensors").exists()
    assert manager.status(["hubert_base"])["hubert_base"].state == "present"


def test_server_vouched_sha256_is_checked_when_the_manifest_has_none(manager: AssetManager, server) -> None:
    path = f"{URL_PATH}/pretrained_v2/f0G40k.pth"
    server.put(path, DATA["pretrained_v2/f0G40k.pth"], headers={"X-Linked-Etag": f'"{"0" * 64}"'})
    with pytest.raises(PersonaError) as err:
        manager.download(["pretrained_v2/f0G40k.pth"])
    assert err.value.code == "asset_checksum_mismatch"
    good = _sha(DATA["pretrained_v2/f0G40k.pth"])
    server.put(path, DATA["pretrained_v2/f0G40k.pth"], headers={"X-Linked-Etag": f'"{good}"'})
    manager.download(["pretrained_v2/f0G40k.pth"])
    assert manager.status(["pretrained_v2/f0G40k.pth"])["pretrained_v2/f0G40k.pth"].state == "present"
