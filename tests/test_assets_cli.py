"""`persona assets status | download | import` exit codes and output."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_assets import DATA, URL_PATH, make_manifest

from persona.assets import AssetManager
from persona.cli import assets as cli_assets
from persona.cli import main
from persona.testing.http import FileServer


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(
        cli_assets, "_manager", lambda settings: AssetManager(settings, make_manifest(), backoff=0)
    )
    monkeypatch.setenv("PERSONA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PERSONA_ASSETS", str(tmp_path / "assets"))
    with FileServer() as server:
        for path, data in DATA.items():
            server.put(f"{URL_PATH}/{path}", data)
        monkeypatch.setenv("PERSONA_ASSET_BASE_URL", server.url)
        yield tmp_path / "assets", server


def test_status_download_status(env, capsys) -> None:
    assets, _ = env
    assert main(["assets", "status"]) == 0
    out = capsys.readouterr().out
    assert "rmvpe.pt" in out and "missing" in out and str(assets) in out
    assert main(["assets", "download"]) == 0
    out = capsys.readouterr().out
    assert "rmvpe.pt: present" in out and "hubert_base: present" in out
    assert (assets / "rmvpe.pt").read_bytes() == DATA["rmvpe.pt"]
    assert not (assets / "pretrained_v2").exists()  # not in the default set
    assert main(["assets", "download", "pretrained_v2/*"]) == 0
    assert (assets / "pretrained_v2/f0G40k.pth").exists()
    assert main(["assets", "status", "--json"]) == 0
    assert '"state": "present"' in capsys.readouterr().out


def test_download_unknown_name_exits_2(env, capsys) -> None:
    assert main(["assets", "download", "rmvpe.pt", "nonsense.pt"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nonsense.pt" in err and "asset_unknown" in err
    assert not (env[0] / "rmvpe.pt").exists()  # nothing fetched before the check


def test_download_checksum_failure_exits_2(env, capsys) -> None:
    _, server = env
    server.put(f"{URL_PATH}/rmvpe.pt", b"not the weights")
    assert main(["assets", "download", "rmvpe.pt"]) == 2
    assert "asset_checksum_mismatch" in capsys.readouterr().err


def test_import(env, tmp_path: Path, capsys) -> None:
    assets, _ = env
    assert main(["assets", "import", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a folder" in err
    rvc = tmp_path / "rvc" / "assets"
    (rvc / "rmvpe").mkdir(parents=True)
    (rvc / "rmvpe" / "rmvpe.pt").write_bytes(DATA["rmvpe.pt"])
    assert main(["assets", "import", str(tmp_path / "rvc")]) == 0
    assert "rmvpe.pt: imported" in capsys.readouterr().out
    assert (assets / "rmvpe.pt").read_bytes() == DATA["rmvpe.pt"]
    bad = tmp_path / "bad" / "pretrained_v2"
    bad.mkdir(parents=True)
    (bad / "f0G40k.pth").write_bytes(b"whatever")  # no published hash: imported and recorded
    (tmp_path / "bad" / "rmvpe.pt").write_bytes(b"broken")
    (assets / "rmvpe.pt").unlink()
    assert main(["assets", "import", str(tmp_path / "bad")]) == 2
    captured = capsys.readouterr()
    assert "rmvpe.pt: corrupt" in captured.out and "pretrained_v2/f0G40k.pth: imported" in captured.out
    assert not (assets / "rmvpe.pt").exists()


def test_bare_assets_command_exits_2(env, capsys) -> None:
    assert main(["assets"]) == 2
    with pytest.raises(SystemExit) as exc:  # argparse's own one-line error
        main(["assets", "frobnicate"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("persona: error:")


def test_real_manager_sees_every_area_without_imports(settings) -> None:
    """The manifest is plain data: a fresh process lists the separation weights without having
    imported anything from persona.separation."""
    import subprocess
    import sys

    names = set(AssetManager(settings).manifest)
    assert {"hubert_base", "rmvpe.pt"} <= names
    code = (
        "import sys; from persona.assets import manifest; "
        "print(sum(a.group == 'separation' for a in manifest.MANIFEST.values()), "
        "any(m.startswith('persona.separation') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["8", "False"]
