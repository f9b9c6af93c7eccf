"""Alembic revisions of the job store's schema (applied by ``persona.db.ensure_schema``)."""
