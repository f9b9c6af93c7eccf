"""Owners and the library's catalogue: ``jobs.owner``, models, covers, trainings and quotas.

Existing jobs belong to the local owner (''); the models and covers already on disk are entered
by ``persona.library.catalogue`` the first time it opens a home (it knows where the home is; this
migration may run on a PostgreSQL server that does not).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("owner", sa.String(64), nullable=False, server_default=""))
    op.create_index("jobs_owner", "jobs", ["owner"])
    op.create_table(
        "library_models",
        sa.Column("owner", sa.String(64), primary_key=True),
        sa.Column("name_key", sa.String(256), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False, server_default=""),
        sa.Column("size_bytes", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "library_covers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("model", sa.Text, nullable=False, server_default=""),
        sa.Column("song_name", sa.Text, nullable=False, server_default=""),
        sa.Column("size_bytes", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("library_covers_owner", "library_covers", ["owner"])
    op.create_table(
        "library_trainings",
        sa.Column("owner", sa.String(64), primary_key=True),
        sa.Column("name_key", sa.String(256), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "quotas",
        sa.Column("owner", sa.String(64), primary_key=True),
        sa.Column("max_models", sa.Integer),
        sa.Column("max_jobs", sa.Integer),
    )


def downgrade() -> None:
    op.drop_table("quotas")
    op.drop_table("library_trainings")
    op.drop_table("library_covers")
    op.drop_table("library_models")
    op.drop_index("jobs_owner", "jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("owner")
