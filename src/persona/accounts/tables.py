"""The account tables, on the job database's one ``MetaData`` (Alembic revision 0003).

``users.name_key`` is the name folded for comparison (NFKC, case-folded), unique: "Mina" and
"mina" are one person. Sessions and tokens are stored only as SHA-256 digests of the random
secret the client holds (256 bits of entropy: a fast digest is enough, and a leaked database
gives no usable cookie or token).
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table, Text

from persona.db import metadata

users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("name_key", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("admin", Integer, nullable=False, server_default="0"),
    Column("disabled", Integer, nullable=False, server_default="0"),
    Column("quota_bytes", Integer),  # None: the settings' default
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_ts", Float, nullable=False),
    Column("seen_ts", Float, nullable=False),
    Column("expires_ts", Float, nullable=False),
    Index("sessions_user", "user_id"),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", Text, nullable=False),
    Column("last_used_at", Text),
    Column("last_used_ts", Float),
    Index("access_tokens_user", "user_id"),
)

# Secrets every web process must share (the cookie-signing key), made once on first use.
account_secrets = Table(
    "account_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
