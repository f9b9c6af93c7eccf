"""``Accounts``: the people of this server, in the job database (every web process sees them).

A person is ``{id, name, admin, disabled, quota_bytes, created_at}``; ``id`` is a stable random
hex string that everything a person owns refers to (``persona.server.identity.current_owner``).
Names are unique as folded by ``passwords.name_key``. The last enabled admin can be neither
demoted, disabled nor deleted, so a server with accounts always has someone who can manage it.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from persona import db
from persona.accounts import passwords
from persona.accounts.tables import access_tokens, sessions, users
from persona.clock import now_iso
from persona.errors import PersonaError
from persona.settings import Settings

_PUBLIC = ("id", "name", "admin", "disabled", "quota_bytes", "created_at")
_instances: dict[tuple[str, int], Accounts] = {}
_instances_lock = threading.Lock()


def user_not_found(name: str = "") -> PersonaError:
    return PersonaError("user_not_found", "no such person", status=404, params={"name": name[:64]})


class Accounts:
    """Reads and writes of ``users`` (sessions and tokens: ``persona.accounts.credentials``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = db.database_url(settings)
        self.db = db.engines(self.url)
        db.ensure_schema(self.url)
        self._known_any = False

    @classmethod
    def of(cls, settings: Settings) -> Accounts:
        """This process' ``Accounts`` for the settings' database (built once)."""
        import os

        key = (db.database_url(settings), os.getpid())
        with _instances_lock:
            found = _instances.get(key)
            if found is None:
                found = _instances[key] = cls(settings)
            return found

    # ---- reads ------------------------------------------------------------------------------
    @staticmethod
    def public(row: dict[str, Any]) -> dict[str, Any]:
        out = {k: row[k] for k in _PUBLIC}
        out["admin"], out["disabled"] = bool(out["admin"]), bool(out["disabled"])
        return out

    def _one(self, stmt) -> dict[str, Any] | None:
        with self.db.reading() as conn:
            row = conn.execute(stmt).first()
        return dict(row._mapping) if row else None

    def any_user(self) -> bool:
        """True once one account exists (then accounts mode is on for good: the last admin stays).
        A "no" is asked again each time (one indexed read), so the first account made by the CLI
        switches every web process at its very next request."""
        if self._known_any:
            return True
        with self.db.reading() as conn:
            found = conn.execute(select(users.c.id).limit(1)).first() is not None
        self._known_any = found
        return found

    def get(self, user_id: str) -> dict[str, Any]:
        row = self._one(select(users).where(users.c.id == str(user_id)))
        if row is None:
            raise user_not_found()
        return row

    def find(self, name: str) -> dict[str, Any] | None:
        """The person with this name (as folded), or None."""
        if not isinstance(name, str) or len(name) > 4 * passwords.NAME_MAX:
            return None
        return self._one(select(users).where(users.c.name_key == passwords.name_key(name.strip())))

    def by_name(self, name: str) -> dict[str, Any]:
        row = self.find(name)
        if row is None:
            raise user_not_found(str(name))
        return row

    def list(self) -> list[dict[str, Any]]:
        with self.db.reading() as conn:
            rows = conn.execute(select(users).order_by(users.c.created_at, users.c.name_key)).all()
        return [dict(r._mapping) for r in rows]

    def count_admins(self, conn) -> int:
        stmt = select(func.count()).select_from(users).where(users.c.admin == 1, users.c.disabled == 0)
        return int(conn.execute(stmt).scalar() or 0)

    # ---- sign-in -----------------------------------------------------------------------------
    def authenticate(self, name: object, password: object) -> dict[str, Any] | None:
        """The enabled person with this name and password, else None. An unknown name, a wrong
        password and a disabled person cost one argon2 verification each and look the same."""
        row = self.find(name) if isinstance(name, str) else None
        ok = passwords.verify_password(row["password_hash"] if row else None, str(password or ""))
        if not ok or row is None or row["disabled"]:
            return None
        if passwords.needs_rehash(row["password_hash"]):
            self._write(users.c.id == row["id"], password_hash=passwords.hash_password(str(password)))
        return row

    # ---- changes -----------------------------------------------------------------------------
    def create(
        self,
        name: object,
        password: object,
        *,
        admin: bool = False,
        quota_bytes: int | None = None,
        check_strength: bool = True,
    ) -> dict[str, Any]:
        row = self._new_row(name, password, admin, quota_bytes, check_strength)
        with self.db.write.begin() as conn:
            self._insert(conn, row)
        return row

    def create_first_admin(self, name: object, password: object) -> dict[str, Any]:
        """The first person, an administrator; 403 ``setup_closed`` once anyone exists (two
        first-run pages racing: the store's write lock lets one win)."""
        row = self._new_row(name, password, True, None, True)
        with self.db.writing() as conn:
            if conn.execute(select(users.c.id).limit(1)).first() is not None:
                raise PersonaError("setup_closed", "this server already has an administrator", status=403)
            self._insert(conn, row)
        return row

    @staticmethod
    def _new_row(name, password, admin, quota_bytes, check_strength) -> dict[str, Any]:
        clean = passwords.clean_name(name)
        passwords.check_password_shape(password)
        if check_strength:
            passwords.check_password_strength(str(password), clean)
        ts = now_iso()
        return {
            "id": uuid.uuid4().hex,
            "name": clean,
            "name_key": passwords.name_key(clean),
            "password_hash": passwords.hash_password(str(password)),
            "admin": int(bool(admin)),
            "disabled": 0,
            "quota_bytes": _quota(quota_bytes),
            "created_at": ts,
            "updated_at": ts,
        }

    def _insert(self, conn, row: dict[str, Any]) -> None:
        try:
            with conn.begin_nested():
                conn.execute(insert(users).values(**row))
        except IntegrityError:
            raise PersonaError(
                "user_exists", "that name is taken", status=409, params={"name": row["name"]}
            ) from None
        self._known_any = True

    def _write(self, *where, **values: Any) -> int:
        values["updated_at"] = now_iso()
        with self.db.write.begin() as conn:
            return conn.execute(update(users).where(*where).values(**values)).rowcount

    def set_password(self, user_id: str, password: object, *, check_strength: bool = True) -> None:
        """A new password; every session of the person ends (tokens stay: revoke them one by one)."""
        row = self.get(user_id)
        passwords.check_password_shape(password)
        if check_strength:
            passwords.check_password_strength(str(password), row["name"])
        with self.db.write.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == row["id"])
                .values(password_hash=passwords.hash_password(str(password)), updated_at=now_iso())
            )
            conn.execute(delete(sessions).where(sessions.c.user_id == row["id"]))

    def change(
        self,
        user_id: str,
        *,
        admin: bool | None = None,
        disabled: bool | None = None,
        quota_bytes: int | None | str = "keep",
    ) -> dict[str, Any]:
        """Admin flag, disabled flag, quota (None: the default). Disabling ends every session and
        makes the person's tokens refuse (they work again once re-enabled)."""
        values: dict[str, Any] = {"updated_at": now_iso()}
        if admin is not None:
            values["admin"] = int(bool(admin))
        if disabled is not None:
            values["disabled"] = int(bool(disabled))
        if quota_bytes != "keep":
            values["quota_bytes"] = _quota(quota_bytes)
        with self.db.write.begin() as conn:
            row = conn.execute(select(users).where(users.c.id == str(user_id))).first()
            if row is None:
                raise user_not_found()
            conn.execute(update(users).where(users.c.id == row.id).values(**values))
            if row.admin and not row.disabled and self.count_admins(conn) == 0:
                raise PersonaError("last_admin", "the last administrator cannot lose that role", status=409)
            if values.get("disabled"):
                conn.execute(delete(sessions).where(sessions.c.user_id == row.id))
        return self.get(user_id)

    def remove(self, user_id: str) -> None:
        """Delete the person's row, sessions and tokens (their data: ``persona.accounts.erase``)."""
        with self.db.write.begin() as conn:
            row = conn.execute(select(users).where(users.c.id == str(user_id))).first()
            if row is None:
                raise user_not_found()
            conn.execute(delete(sessions).where(sessions.c.user_id == row.id))
            conn.execute(delete(access_tokens).where(access_tokens.c.user_id == row.id))
            conn.execute(delete(users).where(users.c.id == row.id))
            if row.admin and not row.disabled and self.count_admins(conn) == 0:
                raise PersonaError("last_admin", "the last administrator cannot be deleted", status=409)


def _quota(value: object) -> int | None:
    if value is None:
        return None
    try:
        quota = int(value)
    except (TypeError, ValueError):
        raise PersonaError("quota_invalid", "the quota must be a number of bytes") from None
    if quota < 0:
        raise PersonaError("quota_invalid", "the quota must not be negative")
    return quota
