"""``/api/admin/...``: the administrator's view of people (and the jobs running for them).

Only an administrator (session or token) reaches these routes; anyone else gets 403
``admin_required``. Deleting a person erases their data (``persona.accounts.erase``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from persona.accounts.erase import erase_person
from persona.accounts.usage import usage_of
from persona.errors import PersonaError
from persona.jobs.store import ACTIVE
from persona.server import identity, signin
from persona.server.api_account import body
from persona.server.services import services

bp = Blueprint("admin", __name__)
GB = 1_000_000_000


def _admin() -> dict[str, Any]:
    user = identity.current_user()
    if user is None:
        raise PersonaError("accounts_off", "this server has no accounts", status=404)
    if not user.get("admin"):
        raise PersonaError("admin_required", "only an administrator may do this", status=403)
    return user


def _person(row: dict[str, Any]) -> dict[str, Any]:
    numbers = usage_of(services().settings, row)
    return {**signin.public_user(row), "usage": numbers["usage"], "quota": numbers["quota"]}


def _quota_from(data: dict[str, Any]) -> int | None | str:
    """``quota_bytes`` or ``quota_gb`` (null: the default); "keep" when neither is given."""
    if "quota_bytes" in data:
        return data["quota_bytes"]
    if "quota_gb" in data:
        gb = data["quota_gb"]
        if gb is None:
            return None
        if isinstance(gb, bool) or not isinstance(gb, int | float):
            raise PersonaError("quota_invalid", "the quota must be a number of bytes")
        return int(gb * GB)
    return "keep"


def _set_counts(user_id: str, data: dict[str, Any]) -> None:
    """``quota_models`` / ``quota_jobs``: the person's count limits (null: the default)."""
    limits = {}
    for key, column in (("quota_models", "max_models"), ("quota_jobs", "max_jobs")):
        if key in data:
            value = data[key]
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise PersonaError(
                    "quota_invalid", f"'{key}' must be a whole number, 0 or more", params={"field": key}
                )
            limits[column] = value
    if limits:
        from persona.catalogue.store import Catalogue

        Catalogue(services().settings).set_quota(user_id, **limits)


def _flag(data: dict[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise PersonaError("param_invalid", f"'{key}' must be true or false", params={"field": key})


@bp.get("/api/admin/users")
def list_people():
    _admin()
    return jsonify([_person(row) for row in signin.accounts().list()])


@bp.post("/api/admin/users")
def add_person():
    _admin()
    data = body()
    quota = _quota_from(data)
    row = signin.accounts().create(
        data.get("username"),
        data.get("password"),
        admin=bool(_flag(data, "admin")),
        quota_bytes=None if quota == "keep" else quota,
    )
    return jsonify(_person(row)), 201


@bp.get("/api/admin/users/<user_id>")
def get_person(user_id: str):
    _admin()
    return jsonify(_person(signin.accounts().get(user_id)))


@bp.patch("/api/admin/users/<user_id>")
def change_person(user_id: str):
    _admin()
    data = body()
    acc = signin.accounts()
    if "password" in data:
        acc.set_password(user_id, data["password"])
    row = acc.change(
        user_id, admin=_flag(data, "admin"), disabled=_flag(data, "disabled"), quota_bytes=_quota_from(data)
    )
    _set_counts(row["id"], data)
    if row["disabled"]:
        services().queue.store.cancel_all_of(row["id"])  # none of their jobs runs on
    signin.end_revoked_sockets()
    return jsonify(_person(row))


@bp.delete("/api/admin/users/<user_id>")
def delete_person(user_id: str):
    _admin()
    erase_person(services().settings, user_id)
    signin.end_revoked_sockets()
    return "", 204


@bp.get("/api/admin/jobs")
def running_jobs():
    """Everyone's queued and running jobs, each with its owner's name when it has one."""
    _admin()
    store = services().queue.store
    names = {row["id"]: row["name"] for row in signin.accounts().list()}
    jobs = []
    for job in store.list(status=ACTIVE, limit=500):
        owner = job.get("owner")
        jobs.append({**store.public(job), "owner": owner, "owner_name": names.get(owner) if owner else None})
    return jsonify(jobs)
