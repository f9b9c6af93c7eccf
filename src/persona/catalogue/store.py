"""The library's catalogue in the job database (``persona.catalogue.tables``): which models, covers and trainings exist, whose
they are, their names and sizes (tables in ``persona.db``, Alembic 0004).

The files stay on disk under the owner's folder (``Settings.owner_root``); ``ModelLibrary`` and
``CoverLibrary`` write a row here in the same locked step that renames a folder into place, and
remove it in the step that takes one away. A folder with no row (a home written before the
catalogue existed, a model copied in by hand, a crash between the rename and the row) is entered
by ``reconcile_*`` the next time its owner's library is read; a row whose folder is gone is
dropped. So a home from an older Persona upgrades in place: its models and covers belong to the
local owner ('') until ``hand_over_local`` gives them to the first admin.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update

from persona import db
from persona.catalogue.tables import library_covers, library_models, library_trainings, quotas
from persona.clock import now_iso
from persona.db import jobs
from persona.settings import Settings

LOCAL_OWNER = ""
ACTIVE = ("queued", "running")


def name_key(name: str) -> str:
    """Model names are unique per person, compared case-insensitively (case-insensitive disks)."""
    return name.casefold()


def folder_bytes(path: Path) -> int:
    """Bytes of the regular files under ``path`` (links are not followed)."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            try:
                st = os.lstat(os.path.join(dirpath, f))
            except OSError:
                continue
            total += st.st_size
    return total


class Catalogue:
    """Rows of the catalogue for one database (the home's, or ``PERSONA_DATABASE_URL``)."""

    def __init__(self, settings: Settings) -> None:
        url = db.database_url(settings)
        self._db = db.engines(url)
        db.ensure_schema(url)

    def _rows(self, stmt) -> list[dict[str, Any]]:
        with self._db.reading() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def _one(self, table: Table, where: tuple) -> dict[str, Any] | None:
        rows = self._rows(select(table).where(*where))
        return rows[0] if rows else None

    def _replace(self, table: Table, where: tuple, **row: Any) -> None:
        """Write ``row`` in place of the rows ``where`` picks (an upsert both databases take)."""
        with self._db.writing() as conn:
            conn.execute(delete(table).where(*where))
            conn.execute(insert(table).values(**row))

    def _drop(self, table: Table, where: tuple) -> None:
        with self._db.writing() as conn:
            conn.execute(delete(table).where(*where))

    # ---- models ------------------------------------------------------------------------------
    def model(self, owner: str, name: str) -> dict[str, Any] | None:
        return self._one(library_models, _model_row(owner, name))

    def models(self, owner: str) -> list[dict[str, Any]]:
        return self._rows(select(library_models).where(library_models.c.owner == owner))

    def put_model(self, owner: str, name: str, *, source: str, size_bytes: int, created_at: str) -> None:
        self._replace(
            library_models,
            _model_row(owner, name),
            owner=owner,
            name_key=name_key(name),
            name=name,
            source=source or "",
            size_bytes=int(size_bytes),
            created_at=created_at or "",
        )

    def drop_model(self, owner: str, name: str) -> None:
        self._drop(library_models, _model_row(owner, name))

    # ---- covers ------------------------------------------------------------------------------
    def cover(self, owner: str, cover_id: str) -> dict[str, Any] | None:
        return self._one(library_covers, _cover_row(owner, cover_id))

    def covers(self, owner: str) -> list[dict[str, Any]]:
        return self._rows(select(library_covers).where(library_covers.c.owner == owner))

    def cover_id_taken(self, cover_id: str) -> bool:
        """Cover ids are global (they name a folder and a URL): taken by anyone counts."""
        return bool(self._rows(select(library_covers.c.id).where(library_covers.c.id == cover_id)))

    def put_cover(
        self, owner: str, cover_id: str, *, model: str, song_name: str, size_bytes: int, created_at: str
    ) -> None:
        self._replace(
            library_covers,
            (library_covers.c.id == cover_id,),  # ids are global: whoever had it, it is this row now
            id=cover_id,
            owner=owner,
            model=model or "",
            song_name=song_name or "",
            size_bytes=int(size_bytes),
            created_at=created_at or "",
        )

    def drop_cover(self, owner: str, cover_id: str) -> None:
        self._drop(library_covers, _cover_row(owner, cover_id))

    # ---- trainings (experiment folders: checkpoints, saves, previews) ---------------------------
    def trainings(self, owner: str) -> list[dict[str, Any]]:
        return self._rows(select(library_trainings).where(library_trainings.c.owner == owner))

    def sync_trainings(self, owner: str, found: dict[str, int]) -> None:
        """Make the owner's training rows what is on disk now: ``{folder name: bytes}`` (no write
        when nothing changed: ``GET /api/me`` asks often)."""
        if {r["name"]: r["size_bytes"] for r in self.trainings(owner)} == found:
            return
        with self._db.writing() as conn:
            conn.execute(delete(library_trainings).where(library_trainings.c.owner == owner))
            for name, size in found.items():
                conn.execute(
                    insert(library_trainings).values(
                        owner=owner, name_key=name_key(name), name=name, size_bytes=size, updated_at=now_iso()
                    )
                )

    # ---- per owner ---------------------------------------------------------------------------
    def usage(self, owner: str) -> dict[str, int]:
        """Stored bytes (models + covers + trainings), model and cover counts, active jobs."""

        def one(stmt) -> int:
            with self._db.reading() as conn:
                return int(conn.execute(stmt).scalar() or 0)

        def total(table) -> int:
            return one(select(func.coalesce(func.sum(table.c.size_bytes), 0)).where(table.c.owner == owner))

        return {
            "bytes": total(library_models) + total(library_covers) + total(library_trainings),
            "models": one(
                select(func.count()).select_from(library_models).where(library_models.c.owner == owner)
            ),
            "covers": one(
                select(func.count()).select_from(library_covers).where(library_covers.c.owner == owner)
            ),
            "jobs": one(
                select(func.count()).select_from(jobs).where(jobs.c.owner == owner, jobs.c.status.in_(ACTIVE))
            ),
        }

    def quota(self, owner: str) -> dict[str, int | None]:
        row = self._one(quotas, (quotas.c.owner == owner,)) or {}
        return {k: row.get(k) for k in ("max_models", "max_jobs")}

    def set_quota(self, owner: str, **limits: int | None) -> None:
        """Set ``max_models`` and/or ``max_jobs`` (None: back to the default)."""
        current = self.quota(owner)
        current.update({k: v for k, v in limits.items() if k in current})
        self._replace(quotas, (quotas.c.owner == owner,), owner=owner, **current)

    def owners(self) -> set[str]:
        found: set[str] = set()
        for table in (library_models, library_covers, library_trainings):
            found.update(r["owner"] for r in self._rows(select(table.c.owner).distinct()))
        found.update(r["owner"] for r in self._rows(select(jobs.c.owner).distinct()))
        return found

    def job_ids(self, owner: str) -> list[str]:
        return [r["id"] for r in self._rows(select(jobs.c.id).where(jobs.c.owner == owner))]

    def reassign(self, old: str, new: str) -> None:
        """Every row of ``old`` becomes ``new``'s (the local owner's things to the first admin)."""
        with self._db.writing() as conn:
            for table in (library_models, library_covers, library_trainings, jobs):
                conn.execute(update(table).where(table.c.owner == old).values(owner=new))

    def forget(self, owner: str) -> None:
        """Remove every catalogue row, job row and quota of ``owner`` (account erasure)."""
        with self._db.writing() as conn:
            for table in (library_models, library_covers, library_trainings, quotas):
                conn.execute(delete(table).where(table.c.owner == owner))
            conn.execute(delete(jobs).where(jobs.c.owner == owner))


def _model_row(owner: str, name: str) -> tuple:
    """Picks ``owner``'s model ``name`` (names compare case-insensitively: ``name_key``)."""
    return (library_models.c.owner == owner, library_models.c.name_key == name_key(name))


def _cover_row(owner: str, cover_id: str) -> tuple:
    return (library_covers.c.id == cover_id, library_covers.c.owner == owner)
