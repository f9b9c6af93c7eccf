"""A home written before owners and the catalogue (Alembic 0002) upgrades in place: every model,
cover, save and job is kept for the local owner, then handed to the first admin."""

from __future__ import annotations

import pytest

from persona.accounts.store import Accounts
from persona.catalogue.people import install, usage_of
from persona.catalogue.store import Catalogue
from persona.jobs import JobStore
from persona.library import CoverLibrary, ModelLibrary
from persona.settings import PEOPLE_DIR
from persona.testing.legacy import build_legacy_home


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server (Debian's binaries), one fresh database per test."""
    from persona.testing.home import free_port
    from persona.testing.services import PostgresServer, find_binary

    if not (find_binary("initdb") and find_binary("postgres")):
        pytest.skip("PostgreSQL binaries not installed")
    server = PostgresServer(free_port()).start()
    yield server
    server.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def legacy(request, tmp_path):
    """An old home; its job database in the home's SQLite file or in a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return build_legacy_home(tmp_path)
    import uuid

    from sqlalchemy import create_engine, text

    server = request.getfixturevalue("postgres")
    name = f"legacy_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        server.url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return build_legacy_home(tmp_path, database_url=server.url.rsplit("/", 1)[0] + "/" + name)


def test_an_old_home_keeps_everything_for_the_local_owner(legacy):
    store = JobStore(legacy)  # 0002 -> 0004
    jobs = {j["id"]: j for j in store.list()}
    assert set(jobs) == {"legacycover01", "legacytrain01"}
    assert all(j["owner"] == "" for j in jobs.values())
    assert {m.name for m in ModelLibrary(legacy).list()} == {"데모 목소리", "plain-v1"}
    (cover,) = CoverLibrary(legacy).list()
    assert jobs["legacycover01"]["result"]["cover_id"] == cover.id
    rows = Catalogue(legacy).models("")
    assert {r["name"] for r in rows} == {"데모 목소리", "plain-v1"} and all(r["size_bytes"] > 0 for r in rows)
    assert Catalogue(legacy).cover("", cover.id)["model"] == "데모 목소리"
    used = usage_of(legacy, "")
    assert used["models"] == 2 and used["covers"] == 1 and used["jobs_queued"] == 1
    assert used["bytes"] > sum(r["size_bytes"] for r in rows)  # the training's save counts too
    assert (legacy.training_dir / "plain-v1" / "saves.json").is_file()


def test_the_first_admin_receives_the_old_home(legacy):
    before = {m.name: m.pth_path.read_bytes() for m in ModelLibrary(legacy).list()}
    cover_id = CoverLibrary(legacy).list()[0].id
    admin = Accounts.of(legacy).create("mina", "not-a-secret-1", admin=True, check_strength=False)
    install(legacy)
    mine = legacy.replace(owner=admin["id"])
    assert mine.owner_root == legacy.home / PEOPLE_DIR / admin["id"]
    assert {m.name: m.pth_path.read_bytes() for m in ModelLibrary(mine).list()} == before
    assert CoverLibrary(mine).get(cover_id).audio_path.is_file()
    assert (mine.training_dir / "plain-v1" / "saves.json").is_file()
    assert {j["owner"] for j in JobStore(legacy).list()} == {admin["id"]}
    # nothing is left with the local owner, on disk or in the database
    assert ModelLibrary(legacy).list() == [] and CoverLibrary(legacy).list() == []
    assert list((legacy.home / "training").iterdir()) == []
    assert [p.name for p in (legacy.home / "models").iterdir()] == [".lock"]
    assert Catalogue(legacy).owners() == {admin["id"]}
    install(legacy)  # again: nothing to do, nothing lost
    assert len(ModelLibrary(mine).list()) == 2
