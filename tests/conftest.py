"""Shared pytest fixtures: an isolated Persona home per test, no network, and the web app on it.

``app`` and ``client`` are the web app (no page build) on the test's ``settings``; a module that
needs other settings for all its tests overrides ``settings`` (``def settings(settings): return
settings.replace(...)``), and a test that needs an app with some settings changed asks for
``make_app`` / ``make_client`` (``make_client(token="t")``, ``make_client(other_settings)``).
Files for multipart forms: ``persona.testing.uploads.upload``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from persona.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose data and assets folders live in this test's temporary directory."""
    return Settings(home=tmp_path / "home", assets_dir=tmp_path / "assets", device="cpu")


@pytest.fixture
def make_app(settings: Settings) -> Callable[..., Any]:
    """``make_app(base=None, *, web_dist=None, **changes)``: the app on ``base`` (default: this
    test's settings) with ``changes`` applied."""
    from persona.server import create_app

    def make(base: Settings | None = None, *, web_dist: Path | None = None, **changes: Any):
        app = create_app((base or settings).replace(**changes), web_dist=web_dist)
        app.testing = True
        return app

    return make


@pytest.fixture
def make_client(make_app) -> Callable[..., Any]:
    """``make_client(base=None, *, web_dist=None, **changes)``: a test client of ``make_app(...)``."""

    def make(base: Settings | None = None, *, web_dist: Path | None = None, **changes: Any):
        return make_app(base, web_dist=web_dist, **changes).test_client()

    return make


@pytest.fixture
def app(make_app):
    """The web app on this test's home, serving no page build."""
    return make_app()


@pytest.fixture
def client(app):
    """A Flask test client of ``app``."""
    return app.test_client()
