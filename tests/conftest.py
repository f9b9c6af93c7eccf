"""Shared pytest fixtures: an isolated Persona home per test, no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from persona.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose data and assets folders live in this test's temporary directory."""
    return Settings(home=tmp_path / "home", assets_dir=tmp_path / "assets", device="cpu")
