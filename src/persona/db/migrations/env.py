"""Alembic environment: always online, on the connection ``persona.db`` hands over."""

from alembic import context

from persona.db import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
