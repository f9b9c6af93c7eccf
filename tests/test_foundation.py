from __future__ import annotations

from pathlib import Path

import pytest

from persona.cli import main
from persona.errors import Cancelled, PersonaError
from persona.fsutil import atomic_path
from persona.progress import CancelToken, staged
from persona.settings import Settings


def test_settings_env_then_flags(tmp_path: Path) -> None:
    env = {"PERSONA_HOME": str(tmp_path / "h"), "PERSONA_DEVICE": "cpu", "PERSONA_MAX_SONG_SECONDS": "30"}
    s = Settings.from_env(env, device="cuda", assets_dir=None)
    assert s.home == tmp_path / "h"
    assert s.device == "cuda"  # the flag wins over the environment
    assert s.assets == tmp_path / "h" / "assets"
    assert s.max_song_seconds == 30.0


def test_settings_take_their_types_from_the_fields(tmp_path: Path) -> None:
    """The environment, flags and the worker's settings file are converted by the declared types."""
    from persona.server.run import settings_from_json, settings_to_json

    env = {"PERSONA_COVER_CONCURRENCY": "3", "PERSONA_JOB_STALE_S": "7.5", "PERSONA_ALLOWED_HOSTS": "a, b"}
    s = Settings.from_env(env, home=str(tmp_path / "h"), allowed_origins=["https://x"])
    assert (s.cover_concurrency, s.job_stale_s) == (3, 7.5) and isinstance(s.cover_concurrency, int)
    assert (s.home, s.allowed_hosts, s.allowed_origins) == (tmp_path / "h", ("a", "b"), ("https://x",))
    assert settings_from_json(settings_to_json(s)) == s  # what a worker process is handed
    with pytest.raises(TypeError):
        Settings.typed({"no_such_setting": 1})


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.wav"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"ok")
    assert target.read_bytes() == b"ok"
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]


def test_staged_progress_maps_fractions() -> None:
    seen: list[tuple[str, float]] = []
    for_stage = staged(lambda s, f, m="", **k: seen.append((s, f)), [("a", 1), ("b", 3)])
    for_stage("a")("x", 1.0)
    for_stage("b")("y", 0.5)
    assert seen == [("a", 0.25), ("b", 0.625)]


def test_cancel_token() -> None:
    token = CancelToken()
    token.check()
    token.cancel()
    with pytest.raises(Cancelled) as info:
        token.check()
    assert isinstance(info.value, PersonaError) and info.value.code == "cancelled"


def test_cli_help_and_unknown_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    with pytest.raises(SystemExit) as info:
        main(["--no-such-flag"])
    assert info.value.code == 2


def test_remove_stale_leftovers_keeps_young_ones(tmp_path: Path) -> None:
    import os
    import time

    from persona.fsutil import remove_stale_leftovers

    young = tmp_path / ".tmp-young"
    old = tmp_path / ".tmp-old"
    keep = tmp_path / "model"
    for d in (young, old, keep):
        d.mkdir()
    past = time.time() - 7200
    os.utime(old, (past, past))
    os.utime(keep, (past, past))
    remove_stale_leftovers(tmp_path, (".tmp-",), older_than_s=3600)
    assert young.exists() and keep.exists()  # an import in flight keeps its folder
    assert not old.exists()
