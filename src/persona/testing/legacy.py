"""A home as Persona wrote it before owners and the catalogue (job database at Alembic 0002).

``build_legacy_home(root)``: the fixture home's folders (``persona.testing.home.build_home``: two
models, one cover) plus a training folder with a save and its preview, under ``root/home`` in
today's single-owner layout (``models/``, ``covers/``, ``training/``), and a job database made
by the 0001-0002 revisions only, holding a finished cover job and a queued training, written
with plain SQL as that version's store wrote its rows. Upgrade tests open it with the current
code and check that nothing was lost.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from persona.settings import Settings

LEGACY_REVISION = "0002"


def build_legacy_home(root: str | Path, database_url: str | None = None) -> Settings:
    """``database_url``: a PostgreSQL database to hold the 0002 store (default: the home's SQLite)."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from persona import db
    from persona.testing.home import build_home
    from persona.testing.saves import write_fixture_save

    root = Path(root)
    source = build_home(root / "source", with_assets=False)
    write_fixture_save(source, "plain-v1", 1)
    settings = Settings(
        home=root / "home", assets_dir=root / "source" / "assets", device="cpu", database_url=database_url
    )
    for sub in ("models", "covers", "training"):
        shutil.copytree(source.home / sub, settings.home / sub, ignore=shutil.ignore_patterns(".lock"))
    settings.jobs_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(db.parse_url(db.database_url(settings)))
    try:
        with engine.connect() as conn:
            command.upgrade(db._alembic_config(conn), LEGACY_REVISION)
            conn.commit()
            cover_id = next(
                p.name for p in (settings.home / "covers").iterdir() if not p.name.startswith(".")
            )
            rows = [
                ("legacycover01", "cover", "succeeded", "데모 목소리", f'{{"cover_id": "{cover_id}"}}', 1),
                ("legacytrain01", "train", "queued", "plain-v2", None, 2),
            ]
            for job_id, kind, status, model, result, seq in rows:
                conn.execute(
                    text(
                        "INSERT INTO jobs (id, kind, status, model, params, result, created_at, updated_at, seq)"
                        " VALUES (:id, :kind, :status, :model, :params, :result, :t, :t, :seq)"
                    ),
                    {
                        "id": job_id,
                        "kind": kind,
                        "status": status,
                        "model": model,
                        "params": f'{{"name": "{model}"}}',
                        "result": result,
                        "t": f"2026-01-0{seq}T00:00:00+00:00",
                        "seq": seq,
                    },
                )
            conn.commit()
    finally:
        engine.dispose()
    return settings
