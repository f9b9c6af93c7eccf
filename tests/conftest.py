"""Shared pytest fixtures: an isolated Persona home per test, no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from persona.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose data and assets folders live in this test's temporary directory."""
    return Settings(home=tmp_path / "home", assets_dir=tmp_path / "assets", device="cpu")


@pytest.fixture
def app(settings: Settings):
    """The web app on this test's home, serving no page build."""
    from persona.server import create_app

    app = create_app(settings, web_dist=None)
    app.testing = True
    return app


@pytest.fixture
def client(app):
    """A Flask test client of ``app``."""
    return app.test_client()
