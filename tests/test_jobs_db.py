"""The job store's database layer on the embedded SQLite file: Alembic head, adopting a store
written before Alembic, refusing a newer schema, bad URLs (CLI exit 2, one line)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from persona import db
from persona.errors import PersonaError
from persona.jobs import JobStore

CLI = "import sys; from persona.cli import main; sys.exit(main(sys.argv[1:]))"


def test_schema_head_is_alembics_head(settings):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(db.Path(db.__file__).with_name("migrations")))
    assert ScriptDirectory.from_config(cfg).get_current_head() == db.SCHEMA_HEAD
    store = JobStore(settings)
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == db.SCHEMA_HEAD
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_store_from_before_alembic_is_adopted(settings):
    path = settings.jobs_dir / "jobs.sqlite3"
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:  # the old table, without updated_ts, holding one job
        conn.execute(
            "CREATE TABLE jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL,"
            " stage TEXT NOT NULL DEFAULT '', progress REAL NOT NULL DEFAULT 0, message TEXT NOT NULL DEFAULT '',"
            " eta_s REAL, metrics TEXT NOT NULL DEFAULT '{}', params TEXT NOT NULL DEFAULT '{}', result TEXT,"
            " error TEXT, model TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, started_at TEXT,"
            " finished_at TEXT, cancel_requested INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
            " worker_host TEXT, worker_pid INTEGER, heartbeat REAL, seq INTEGER NOT NULL DEFAULT 0)"
        )
        conn.execute(
            "INSERT INTO jobs (id, kind, status, created_at, updated_at, seq) VALUES ('old1', 'fixture', 'queued', 't', 't', 1)"
        )
    store = JobStore(settings)
    assert store.get("old1")["status"] == "queued" and store.max_seq() == 1
    job = store.create("fixture", {})
    assert store.get(job["id"])["seq"] == 2 and store.get(job["id"])["updated_ts"] is not None


def test_a_newer_schema_is_refused_with_one_line(settings, tmp_path):
    JobStore(settings)
    with sqlite3.connect(settings.jobs_dir / "jobs.sqlite3") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    out = subprocess.run(
        [sys.executable, "-c", CLI, "--home", str(settings.home), "worker"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "[schema_newer]" in lines[0] and "9999" in lines[0], out.stderr


SERVE, WORKER = ["serve", "--port", "7097"], ["worker"]


@pytest.mark.parametrize(
    ("command", "env", "code"),
    [
        (SERVE, {"PERSONA_DATABASE_URL": "mysql://a@b/c"}, "database_url_invalid"),
        (WORKER, {"PERSONA_DATABASE_URL": "::not a url::"}, "database_url_invalid"),
        (SERVE, {"PERSONA_DATABASE_URL": "postgresql://u:pw@127.0.0.1:7099/persona"}, "database_unavailable"),
        (WORKER, {"PERSONA_REDIS_URL": "http://127.0.0.1:7098"}, "redis_url_invalid"),
        (SERVE, {"PERSONA_REDIS_URL": "redis://127.0.0.1:7098/0"}, "redis_unavailable"),
    ],
)
def test_bad_backend_urls_stop_serve_and_worker_at_start(settings, command, env, code):
    out = subprocess.run(
        [sys.executable, "-c", CLI, "--home", str(settings.home), *command],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1 and f"[{code}]" in lines[0], (command, out.stderr)
    assert ":pw@" not in lines[0]


def test_parse_url_uses_psycopg3_and_hides_passwords():
    url = db.parse_url("postgresql://user:secret@db.example:5432/persona")
    assert url.drivername == "postgresql+psycopg"
    assert "secret" not in db.safe_url(url)
    with pytest.raises(PersonaError):
        db.parse_url("sqlite://")
