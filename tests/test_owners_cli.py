"""The command line in accounts mode: ``persona --user NAME ...`` works on that person's library."""

from __future__ import annotations

import subprocess
import sys

from accounts_fixtures import cheap_hashes

from persona.accounts.store import Accounts
from persona.library import ModelLibrary
from persona.testing.home import write_fixture_model


def _jun(settings):
    cheap_hashes()
    acc = Accounts.of(settings)
    acc.create("Mina", "correct horse battery staple", admin=True)
    return acc.create("Jun", "purple monkey dishwasher 42"), None


def test_the_command_line_reaches_a_person_s_library_with_user(settings, tmp_path):
    jun, _ = _jun(settings)
    ModelLibrary(settings.replace(owner=jun["id"])).add(
        "준의목소리", write_fixture_model(tmp_path / "j.pth"), source="x"
    )
    cli = "import sys; from persona.cli import main; sys.exit(main(sys.argv[1:]))"
    base = [sys.executable, "-c", cli, "--home", str(settings.home)]
    theirs = subprocess.run([*base, "--user", "Jun", "models"], capture_output=True, text=True, timeout=120)
    assert theirs.returncode == 0 and "준의목소리" in theirs.stdout, theirs.stderr
    local = subprocess.run([*base, "models"], capture_output=True, text=True, timeout=120)
    assert "준의목소리" not in local.stdout
    unknown = subprocess.run(
        [*base, "--user", "nobody", "models"], capture_output=True, text=True, timeout=120
    )
    assert unknown.returncode == 2 and len(unknown.stderr.strip().splitlines()) == 1
