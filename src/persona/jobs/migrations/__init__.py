"""Alembic revisions of the job store's schema (applied by ``persona.jobs.db.ensure_schema``)."""
