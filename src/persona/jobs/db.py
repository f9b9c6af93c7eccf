"""Moved to ``persona.db`` (the job database is shared by jobs, accounts and the catalogue);
these names stay importable from here for code written before the move."""

from persona.db import (  # noqa: F401
    SCHEMA_HEAD,
    Engines,
    current_revision,
    database_url,
    engines,
    ensure_schema,
    jobs,
    metadata,
    parse_url,
    safe_url,
    unavailable,
)
