"""The jobs table as the embedded SQLite store had it before Alembic.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.Text, nullable=False, server_default=""),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("eta_s", sa.Float),
        sa.Column("metrics", sa.Text, nullable=False, server_default="{}"),
        sa.Column("params", sa.Text, nullable=False, server_default="{}"),
        sa.Column("result", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("model", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.Column("updated_ts", sa.Float),
        sa.Column("started_at", sa.Text),
        sa.Column("finished_at", sa.Text),
        sa.Column("cancel_requested", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("worker_host", sa.Text),
        sa.Column("worker_pid", sa.Integer),
        sa.Column("heartbeat", sa.Float),
        sa.Column("seq", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("jobs_seq", "jobs", ["seq"])
    op.create_index("jobs_status", "jobs", ["status"])


def downgrade() -> None:
    op.drop_table("jobs")
