"""What ``persona serve`` and ``persona worker`` check before they start anything.

A malformed or unreachable ``PERSONA_DATABASE_URL`` / ``PERSONA_REDIS_URL``, or a job database
whose schema is newer than this code, is one ``PersonaError`` (the CLI prints one line, exit 2):
nothing half-starts. An older schema is migrated here (Alembic, under a lock). So is a signing key
for content credentials that is there but unusable, or an unknown ``PERSONA_MARKING``: covers
are never made unsigned or unmarked by accident (``check_provenance``).
"""

from __future__ import annotations

from persona.settings import Settings


def check_backends(settings: Settings) -> None:
    from persona import db

    url = db.database_url(settings)
    db.parse_url(url)
    db.ensure_schema(url)
    if settings.redis_url:
        from persona.jobs.cluster import check_redis

        check_redis(settings.redis_url)


def check_provenance(settings: Settings) -> None:
    """Creates the instance's signing key on first start; a broken one is ``signing_key_invalid``."""
    import logging

    from persona import provenance

    subject = provenance.check_ready(settings)
    logging.getLogger("persona.provenance").info("covers are signed as %s", subject)
