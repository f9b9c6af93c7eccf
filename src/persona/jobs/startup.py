"""What ``persona serve`` and ``persona worker`` check before they start anything.

A malformed or unreachable ``PERSONA_DATABASE_URL`` / ``PERSONA_REDIS_URL``, or a job database
whose schema is newer than this code, is one ``PersonaError`` (the CLI prints one line, exit 2):
nothing half-starts. An older schema is migrated here (Alembic, under a lock).
"""

from __future__ import annotations

from persona.settings import Settings


def check_backends(settings: Settings) -> None:
    from persona.jobs import db

    url = db.database_url(settings)
    db.parse_url(url)
    db.ensure_schema(url)
    if settings.redis_url:
        from persona.jobs.cluster import check_redis

        check_redis(settings.redis_url)
