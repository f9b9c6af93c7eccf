"""The web tests' stand-in for ``GET /api/health`` ``options`` is the real server's answer.

``web/tests/server-options.json`` is what the Vitest suite serves the page as the server's
settings; the page trains and covers with whatever defaults it is given, so this file must not
drift from the server. Refresh it with ``python tests/test_web_fixtures.py`` after changing
``TRAIN_PARAMS``/``COVER_PARAMS``.
"""

from __future__ import annotations

import json
from pathlib import Path

from persona.server.app import create_app

FIXTURE = Path(__file__).resolve().parents[1] / "web" / "tests" / "server-options.json"


def _served_options(settings) -> dict:
    app = create_app(settings, web_dist=None)
    app.testing = True
    return app.test_client().get("/api/health").get_json()["options"]


def test_web_fixture_is_the_servers_health_options(client):
    served = client.get("/api/health").get_json()["options"]
    assert json.loads(FIXTURE.read_text(encoding="utf-8")) == served, (
        "web/tests/server-options.json differs from GET /api/health options: "
        "run `python tests/test_web_fixtures.py` to refresh it"
    )


if __name__ == "__main__":  # refresh the fixture from a throwaway home
    import tempfile

    from persona.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        home = Settings(home=Path(tmp) / "home", assets_dir=Path(tmp) / "assets", device="cpu")
        options = _served_options(home)
    FIXTURE.write_text(json.dumps(options, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
