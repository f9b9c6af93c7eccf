"""The catalogue's tables, on the job database's one ``MetaData`` (Alembic revision 0004).

Files stay on disk under the owner's folder (``Settings.owner_root``); these rows say what exists,
whose it is and its size. ``owner`` is ``users.id`` (helper "auth"), '' for the local owner.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from persona.db import metadata


def _named_per_owner() -> tuple[Column, Column, Column]:
    """The key of a table with one row per person and name: (owner, name_key), and the name."""
    return (
        Column("owner", String(64), primary_key=True),
        Column("name_key", String(256), primary_key=True),  # casefolded: one name per person
        Column("name", Text, nullable=False),
    )


def _folder_facts(stamp: str) -> tuple[Column, Column]:
    """What every row says of its folder on disk: its size, and when (column ``stamp``)."""
    return (
        Column("size_bytes", BigInteger, nullable=False, server_default="0"),
        Column(stamp, Text, nullable=False, server_default=""),
    )


library_models = Table(
    "library_models",
    metadata,
    *_named_per_owner(),
    Column("source", Text, nullable=False, server_default=""),
    *_folder_facts("created_at"),
)
library_covers = Table(
    "library_covers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("model", Text, nullable=False, server_default=""),
    Column("song_name", Text, nullable=False, server_default=""),
    *_folder_facts("created_at"),
    Index("library_covers_owner", "owner"),
)
# A training's experiment folder (its saves and previews), one per model name and person.
library_trainings = Table(
    "library_trainings",
    metadata,
    *_named_per_owner(),
    *_folder_facts("updated_at"),
)
# Per-person limits on counts set by an admin; NULL: the default from Settings. (The byte limit
# is the account's ``users.quota_bytes``, set with ``persona users add --quota-gb``.)
quotas = Table(
    "quotas",
    metadata,
    Column("owner", String(64), primary_key=True),
    Column("max_models", Integer),
    Column("max_jobs", Integer),
)
