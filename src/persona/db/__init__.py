"""The job database: one SQLAlchemy Core schema for the embedded SQLite file and PostgreSQL,
shared by the job store (``jobs``, defined here), the accounts and the catalogue (their tables
sit on this ``metadata``). It lies below all three, so none of them reaches up into another.

``database_url(settings)`` is ``PERSONA_DATABASE_URL`` (``postgresql://...``) or the SQLite file
``jobs_dir/jobs.sqlite3``. ``engines(url)`` gives this process its engines (SQLAlchemy engines are
not fork-safe, so they are cached per pid). Every write runs in a transaction that holds the
store's one write lock, so the global ``seq`` is handed out in commit order and a change stream
reading ``seq > last`` never skips a row committed late: on SQLite ``BEGIN IMMEDIATE`` (WAL, the
same behaviour as before SQLAlchemy), on PostgreSQL a transaction-scoped advisory lock. Reads run
outside any write lock.

Schema changes are Alembic revisions (``persona/db/migrations``). ``ensure_schema`` upgrades an
older database to ``SCHEMA_HEAD`` under a lock (several processes may start at once), adopts a
store written before Alembic (no ``alembic_version`` table), and refuses a database whose revision
this code does not know (it was written by a newer Persona): ``schema_newer`` (CLI exit 2).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from persona.errors import PersonaError
from persona.settings import Settings

# The newest revision in migrations/versions; tests check it matches Alembic's head.
SCHEMA_HEAD = "0004"
_PG_WRITE_LOCK = 7_310_001  # advisory lock key: one writer at a time, seq in commit order
_PG_MIGRATE_LOCK = 7_310_002

metadata = MetaData()
jobs = Table(
    "jobs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("stage", Text, nullable=False, server_default=""),
    Column("progress", Float, nullable=False, server_default="0"),
    Column("message", Text, nullable=False, server_default=""),
    Column("eta_s", Float),
    Column("metrics", Text, nullable=False, server_default="{}"),
    Column("params", Text, nullable=False, server_default="{}"),
    Column("result", Text),
    Column("error", Text),
    Column("model", Text),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("updated_ts", Float),
    Column("started_at", Text),
    Column("finished_at", Text),
    Column("cancel_requested", Integer, nullable=False, server_default="0"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("worker_host", Text),
    Column("worker_pid", Integer),
    Column("heartbeat", Float),
    Column("attempt_token", Text),  # 0002: fencing token of the running attempt
    Column("seq", Integer, nullable=False, server_default="0"),
    Column("owner", String(64), nullable=False, server_default=""),  # 0004: '' = the local owner
    Index("jobs_seq", "seq"),
    Index("jobs_status", "status"),
    Index("jobs_owner", "owner"),
)


def database_url(settings: Settings) -> str:
    """The store's URL: ``PERSONA_DATABASE_URL`` or the embedded SQLite file."""
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{Path(settings.jobs_dir) / 'jobs.sqlite3'}"


def parse_url(raw: str) -> URL:
    """A supported URL (sqlite, postgresql) or ``database_url_invalid``; ``postgresql://`` uses psycopg 3."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError) as exc:
        raise PersonaError(
            "database_url_invalid", f"PERSONA_DATABASE_URL is not a database URL: {exc}"
        ) from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
            url = url.set(drivername="postgresql+psycopg")
        if not url.database:
            raise PersonaError("database_url_invalid", "PERSONA_DATABASE_URL names no database")
        return url
    if backend == "sqlite" and url.database:
        return url
    raise PersonaError(
        "database_url_invalid",
        f"PERSONA_DATABASE_URL must be postgresql://USER:PASSWORD@HOST:PORT/DB or sqlite:///PATH, not {backend}",
    )


def safe_url(url: URL | str) -> str:
    """The URL without its password, for messages and logs."""
    url = url if isinstance(url, URL) else make_url(url)
    return url.render_as_string(hide_password=True)


@dataclass
class Engines:
    url: URL
    read: Engine
    write: Engine
    is_sqlite: bool
    checked: bool = False

    @contextlib.contextmanager
    def writing(self) -> Iterator[Connection]:
        """A transaction holding the store's write lock (commit on success)."""
        with self.write.begin() as conn:
            if not self.is_sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_WRITE_LOCK})
            yield conn

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.read.connect() as conn:
            yield conn


_cache: dict[tuple[str, int], Engines] = {}
_cache_lock = threading.Lock()


def engines(raw_url: str) -> Engines:
    """This process' engines for ``raw_url`` (created once per process)."""
    key = (raw_url, os.getpid())
    with _cache_lock:
        found = _cache.get(key)
        if found is None:
            for stale in [k for k in _cache if k[1] != os.getpid()]:
                del _cache[stale]  # inherited over fork: never reuse the parent's sockets
            found = _cache[key] = _make_engines(parse_url(raw_url))
        return found


def _make_engines(url: URL) -> Engines:
    if url.get_backend_name() == "sqlite":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)

        def sqlite_engine(begin: str | None) -> Engine:
            engine = create_engine(
                url,
                connect_args={"timeout": 30, "check_same_thread": False},
                pool_size=8,
                max_overflow=64,
            )

            @event.listens_for(engine, "connect")
            def on_connect(dbapi_conn, _record) -> None:
                dbapi_conn.isolation_level = None  # we say when transactions begin
                for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
                    dbapi_conn.execute(f"PRAGMA {pragma}")

            if begin:

                @event.listens_for(engine, "begin")
                def on_begin(conn) -> None:
                    conn.exec_driver_sql(begin)

            return engine

        return Engines(url, sqlite_engine(None), sqlite_engine("BEGIN IMMEDIATE"), True)
    engine = create_engine(
        url,
        pool_size=4,
        max_overflow=32,
        pool_pre_ping=True,  # a restarted PostgreSQL: reconnect instead of failing once per socket
        pool_recycle=1800,
        connect_args={"connect_timeout": 5},
    )
    return Engines(url, engine, engine, False)


# ---- schema --------------------------------------------------------------------------------------
def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return row[0] if row else None


def ensure_schema(raw_url: str) -> None:
    """Bring the database to ``SCHEMA_HEAD`` once per process; refuse a newer one."""
    eng = engines(raw_url)
    if eng.checked:
        return
    try:
        with eng.reading() as conn:
            revision = current_revision(conn)
        if revision != SCHEMA_HEAD:
            with _migrate_lock(eng):
                _upgrade(eng)
    except PersonaError:
        raise
    except (DBAPIError, SQLAlchemyError, OSError) as exc:
        raise unavailable(eng.url, exc) from None
    eng.checked = True


def unavailable(url: URL, exc: BaseException) -> PersonaError:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return PersonaError(
        "database_unavailable",
        f"cannot use the job database {safe_url(url)}: {reason[0] if reason else type(exc).__name__}",
        status=503,
    )


@contextlib.contextmanager
def _migrate_lock(eng: Engines) -> Iterator[Connection]:
    if eng.is_sqlite:
        lock_path = Path(eng.url.database).with_suffix(".migrate.lock")
        with open(lock_path, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield None
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    else:
        with eng.write.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATE_LOCK})
            conn.commit()
            try:
                yield conn
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATE_LOCK})
                conn.commit()


def _alembic_config(conn: Connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.attributes["connection"] = conn
    return cfg


def _upgrade(eng: Engines) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    with eng.write.connect() as conn:
        cfg = _alembic_config(conn)
        revision = current_revision(conn)
        known = {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}
        if revision is not None and revision not in known:
            raise PersonaError(
                "schema_newer",
                f"the job database {safe_url(eng.url)} has schema {revision}, newer than this Persona "
                f"understands (newest {SCHEMA_HEAD}); upgrade Persona",
            )
        if revision is None and inspect(conn).has_table("jobs"):
            command.stamp(cfg, _adopt_legacy(conn))
        command.upgrade(cfg, "head")
        conn.commit()


def _adopt_legacy(conn: Connection) -> str:
    """A store from before Alembic: the 0001 table, perhaps without ``updated_ts``, perhaps with
    the fencing column already (0002). Returns the revision it matches."""
    cols = {c["name"] for c in inspect(conn).get_columns("jobs")}
    if "updated_ts" not in cols:
        conn.execute(text("ALTER TABLE jobs ADD COLUMN updated_ts REAL"))
    return "0002" if "attempt_token" in cols else "0001"
