"""Server-side sessions and personal access tokens, stored only as SHA-256 digests.

A session is a random 256-bit secret (``secrets.token_urlsafe``) the web process keeps in the
signed Flask session cookie; the database row says whose it is and until when. Deleting the row
revokes it in every web process at once. Sessions slide: each use within ``SESSION_TTL_S``
extends them (written at most once a minute).

A personal access token is ``prs_`` + a random secret, shown once; the row keeps its digest,
a label, and when it was last used (written at most once a minute).
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from persona.accounts import passwords
from persona.accounts.store import Accounts
from persona.accounts.tables import access_tokens, account_secrets, sessions, users
from persona.clock import now_iso
from persona.errors import PersonaError

SESSION_TTL_S = 14 * 24 * 3600.0
TOKEN_PREFIX = "prs_"
LABEL_MAX = 64
_TOUCH_S = 60.0


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


# ---- sessions ---------------------------------------------------------------------------------------
def open_session(accounts: Accounts, user_id: str) -> str:
    """A new session for the person; returns the secret for the cookie (never stored as is)."""
    secret = secrets.token_urlsafe(32)
    now = time.time()
    with accounts.db.write.begin() as conn:
        conn.execute(
            insert(sessions).values(
                id_hash=digest(secret),
                user_id=user_id,
                created_ts=now,
                seen_ts=now,
                expires_ts=now + SESSION_TTL_S,
            )
        )
    return secret


def session_user(accounts: Accounts, secret: object) -> dict[str, Any] | None:
    """The enabled person this live session belongs to, or None (unknown, expired, revoked)."""
    if not isinstance(secret, str) or not secret or len(secret) > 128:
        return None
    key = digest(secret)
    stmt = (
        select(users, sessions.c.seen_ts, sessions.c.expires_ts)
        .join(sessions, sessions.c.user_id == users.c.id)
        .where(sessions.c.id_hash == key)
    )
    with accounts.db.reading() as conn:
        row = conn.execute(stmt).first()
    now = time.time()
    if row is None or row.expires_ts < now or row.disabled:
        return None
    if now - row.seen_ts > _TOUCH_S:
        with accounts.db.write.begin() as conn:
            conn.execute(
                update(sessions)
                .where(sessions.c.id_hash == key)
                .values(seen_ts=now, expires_ts=now + SESSION_TTL_S)
            )
    found = dict(row._mapping)
    found.pop("seen_ts", None)
    found.pop("expires_ts", None)
    return found


def close_session(accounts: Accounts, secret: object) -> None:
    if isinstance(secret, str) and secret:
        with accounts.db.write.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.id_hash == digest(secret)))


def close_sessions(accounts: Accounts, user_id: str) -> int:
    """End every session of the person (all devices, all web processes)."""
    with accounts.db.write.begin() as conn:
        return conn.execute(delete(sessions).where(sessions.c.user_id == user_id)).rowcount


def purge_expired(accounts: Accounts) -> int:
    with accounts.db.write.begin() as conn:
        return conn.execute(delete(sessions).where(sessions.c.expires_ts < time.time())).rowcount


# ---- personal access tokens --------------------------------------------------------------------------
def clean_label(label: object) -> str:
    if label is None or (isinstance(label, str) and not label.strip()):
        return "token"
    if (
        not isinstance(label, str)
        or len(label.strip()) > LABEL_MAX
        or not passwords._printable(label.strip())
    ):
        raise PersonaError(
            "token_label_invalid",
            f"a token's label is printable text of at most {LABEL_MAX} characters",
            params={"max": LABEL_MAX},
        )
    return label.strip()


def public_token(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "label": row["label"],
        "created_at": row["created_at"],
        "last_used_at": row["last_used_at"],
    }


def issue_token(accounts: Accounts, user_id: str, label: object = None) -> tuple[dict[str, Any], str]:
    """A new token for the person: (its public record, the secret to show once)."""
    label = clean_label(label)
    accounts.get(user_id)  # 404 for a person who is gone
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = {
        "id": uuid.uuid4().hex[:16],
        "user_id": user_id,
        "label": label,
        "token_hash": digest(secret),
        "created_at": now_iso(),
        "last_used_at": None,
        "last_used_ts": None,
    }
    try:
        with accounts.db.write.begin() as conn:
            conn.execute(insert(access_tokens).values(**row))
    except IntegrityError:  # pragma: no cover - 256 random bits do not collide
        raise PersonaError("token_failed", "could not make a token; try again", status=503) from None
    return public_token(row), secret


def token_user(accounts: Accounts, secret: object) -> dict[str, Any] | None:
    """The enabled person holding this token, or None (unknown, revoked, person disabled)."""
    if not isinstance(secret, str) or not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
        return None
    key = digest(secret)
    stmt = (
        select(users, access_tokens.c.id.label("token_id"), access_tokens.c.last_used_ts)
        .join(access_tokens, access_tokens.c.user_id == users.c.id)
        .where(access_tokens.c.token_hash == key)
    )
    with accounts.db.reading() as conn:
        row = conn.execute(stmt).first()
    if row is None or row.disabled:
        return None
    now = time.time()
    if row.last_used_ts is None or now - row.last_used_ts > _TOUCH_S:
        with accounts.db.write.begin() as conn:
            conn.execute(
                update(access_tokens)
                .where(access_tokens.c.token_hash == key)
                .values(last_used_ts=now, last_used_at=now_iso())
            )
    found = dict(row._mapping)
    found.pop("last_used_ts", None)
    return found


def list_tokens(accounts: Accounts, user_id: str) -> list[dict[str, Any]]:
    stmt = (
        select(access_tokens).where(access_tokens.c.user_id == user_id).order_by(access_tokens.c.created_at)
    )
    with accounts.db.reading() as conn:
        return [public_token(dict(r._mapping)) for r in conn.execute(stmt)]


def revoke_token(accounts: Accounts, user_id: str, token_id: str) -> None:
    """Revoke one of the person's tokens; another person's token id answers 404 like a missing one."""
    with accounts.db.write.begin() as conn:
        gone = conn.execute(
            delete(access_tokens).where(
                access_tokens.c.id == str(token_id), access_tokens.c.user_id == user_id
            )
        ).rowcount
    if not gone:
        raise PersonaError("token_not_found", "no such token", status=404)


# ---- shared secrets ----------------------------------------------------------------------------------
def shared_secret(accounts: Accounts, name: str) -> str:
    """A random secret every web process shares (made by whichever asks first)."""
    stmt = select(account_secrets.c.value).where(account_secrets.c.name == name)
    with accounts.db.reading() as conn:
        found = conn.execute(stmt).scalar()
    if found:
        return found
    try:
        with accounts.db.write.begin() as conn:
            conn.execute(insert(account_secrets).values(name=name, value=secrets.token_hex(32)))
    except IntegrityError:
        pass  # another process made it first: use theirs
    with accounts.db.reading() as conn:
        return conn.execute(stmt).scalar()
