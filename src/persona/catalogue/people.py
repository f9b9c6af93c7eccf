"""A person's data as a whole: handing the local owner's things to the first admin, usage against
limits, and erasing everything of a person.

- ``hand_over_local(settings, owner)``: a home used before accounts existed belongs to the local
  owner (''): its model, cover and training folders move under the person's folder and every
  catalogue and job row becomes theirs. Idempotent; ``install`` runs it for the first admin.
- ``usage_of(settings, owner)`` / ``quota_of(settings, user)``: the numbers of ``GET /api/me`` and
  the admin page (bytes: everything kept in the person's folders, outputs included);
  ``check_quota`` refuses an upload or a job over a limit before anything is kept.
- ``erase_person_data(settings, owner)``: the account-deletion hook (``persona.accounts.erase``).
"""

from __future__ import annotations

import logging
import os
import shutil
from typing import Any

from persona.catalogue.store import LOCAL_OWNER, Catalogue, folder_bytes
from persona.errors import PersonaError
from persona.settings import PEOPLE_DIR, Settings

log = logging.getLogger(__name__)
_OWNED_DIRS = ("models", "covers", "training")


def hand_over_local(settings: Settings, owner: str) -> int:
    """Give the local owner's models, covers, trainings and jobs to ``owner``; returns how many
    folders moved. A name ``owner`` already has stays with the local owner (never overwritten)."""
    if not owner:
        return 0
    local = settings.replace(owner=LOCAL_OWNER)
    person = settings.replace(owner=owner)
    moved = 0
    for sub in _OWNED_DIRS:
        src, dst = local.owner_root / sub, person.owner_root / sub
        if not src.is_dir():
            continue
        dst.mkdir(parents=True, exist_ok=True)
        for item in sorted(src.iterdir()):
            if item.name.startswith("."):
                continue  # locks and leftovers stay
            target = dst / item.name
            if target.exists():
                log.warning(
                    "hand-over: %s/%s exists for the new owner; left with the local owner", sub, item.name
                )
                continue
            os.rename(item, target)
            moved += 1
    catalogue = Catalogue(settings)
    catalogue.reassign(LOCAL_OWNER, owner)
    return moved


def first_admin(settings: Settings) -> str | None:
    """The id of the oldest enabled administrator, None before accounts exist."""
    from persona.accounts.store import Accounts

    admins = [u for u in Accounts.of(settings).list() if u.get("admin") and not u.get("disabled")]
    admins.sort(key=lambda u: str(u.get("created_at") or ""))
    return str(admins[0]["id"]) if admins else None


def install(settings: Settings) -> None:
    """At server start (``create_app``): when accounts exist, hand anything the local owner
    still holds to the first admin (a home used before accounts, upgraded). The account hooks
    need no call: ``persona.accounts`` names ``erase_person_data`` and ``account_usage``."""
    admin = first_admin(settings)
    if admin is not None and LOCAL_OWNER in Catalogue(settings).owners() | _local_folders(settings):
        hand_over_local(settings, admin)


def _local_folders(settings: Settings) -> set[str]:
    """{''} when the local owner's folders hold anything (an older home not yet handed over)."""
    for sub in _OWNED_DIRS:
        folder = settings.home / sub
        if folder.is_dir() and any(not p.name.startswith(".") for p in folder.iterdir()):
            return {LOCAL_OWNER}
    return set()


# ---- usage and limits -------------------------------------------------------------------------------
def refresh_trainings(settings: Settings, owner: str) -> None:
    """Record the size of each of the owner's training folders (saves and previews grow there)."""
    root = settings.replace(owner=owner).training_dir
    found = (
        {p.name: folder_bytes(p) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")}
        if root.is_dir()
        else {}
    )
    Catalogue(settings).sync_trainings(owner, found)


def stored_bytes(settings: Settings, owner: str) -> int:
    """Every byte kept for ``owner``, read from their folders: models (with what is written beside
    a model after it is added: consent records, metadata), covers (with the original song), and
    trainings (checkpoints, saves, previews). Jobs keep nothing of their own once they end (their
    folders go; what they made lives in these folders)."""
    mine = settings.replace(owner=owner)
    return sum(folder_bytes(folder) for folder in (mine.models_dir, mine.covers_dir, mine.training_dir))


def usage_of(settings: Settings, owner: str) -> dict[str, int]:
    """``{bytes, models, covers, jobs_queued}``: stored bytes (``stored_bytes``: the disk, not the
    sizes the catalogue recorded when each object was added), counts, and the person's queued or
    running jobs."""
    refresh_trainings(settings, owner)
    used = Catalogue(settings).usage(owner)
    return {
        "bytes": stored_bytes(settings, owner),
        "models": used["models"],
        "covers": used["covers"],
        "jobs_queued": used["jobs"],
    }


def quota_of(settings: Settings, user: dict[str, Any] | None) -> dict[str, int | None]:
    """The person's limits (``user``: the account row; None: the local owner, who has none):
    ``{bytes, models, jobs_queued}``, each None for no limit. The byte limit is the account's
    ``quota_bytes`` or ``Settings.quota_bytes``; counts come from the ``quotas`` table or settings."""
    if user is None:
        return {"bytes": None, "models": None, "jobs_queued": None}
    own = Catalogue(settings).quota(str(user["id"]))

    def pick(value: int | None, default: int) -> int | None:
        value = default if value is None else value
        return int(value) if value else None  # 0: no limit

    return {
        "bytes": pick(user.get("quota_bytes"), settings.quota_bytes),
        "models": pick(own["max_models"], settings.quota_models),
        "jobs_queued": pick(own["max_jobs"], settings.quota_jobs),
    }


def account_usage(settings: Settings, user: dict[str, Any]) -> dict[str, Any]:
    """``{"usage": ..., "quota": ...}`` of an account (``GET /api/me``, the admin list)."""
    return {"usage": usage_of(settings, str(user["id"])), "quota": quota_of(settings, user)}


def check_quota(
    settings: Settings,
    owner: str,
    user: dict[str, Any] | None,
    *,
    add_bytes: int = 0,
    add_models: int = 0,
    add_jobs: int = 0,
) -> None:
    """Refuse what would take ``owner`` over a limit: bytes 413, models or jobs 429, code
    ``quota_exceeded`` with ``{reason, usage, limit, adding}`` (reason: bytes, models, jobs_queued).
    Nothing is refused for the local owner.

    A job is checked when it is started, with what its upload adds; what it keeps when it ends (a
    cover, a trained model and its saves) is kept even past the limit, so nothing made is lost,
    and then the next upload or job is refused. A new model or job of unknown size (a chunked
    upload) counts as one byte: a person at the limit starts nothing more."""
    if user is None:
        return
    limits = quota_of(settings, user)
    used = usage_of(settings, owner)
    if add_models or add_jobs:
        add_bytes = max(add_bytes, 1)
    for what, adding, status in (
        ("bytes", add_bytes, 413),
        ("models", add_models, 429),
        ("jobs_queued", add_jobs, 429),
    ):
        limit = limits[what]
        if adding and limit is not None and used[what] + adding > limit:
            raise PersonaError(
                "quota_exceeded",
                f"this would take you over your limit of {what.replace('_', ' ')}: "
                f"{used[what]} used, {adding} more asked, {limit} allowed",
                status=status,
                params={"reason": what, "usage": used[what], "limit": limit, "adding": adding},
            )


# ---- leaving -------------------------------------------------------------------------------------------
def erase_person_data(settings: Settings, owner: str) -> None:
    """Everything of ``owner``: queued jobs cancelled, running ones stopped (their rows go, so a
    worker's next check finds its attempt superseded and adds nothing), job folders, the person's
    folder (models, covers, trainings with saves and previews), catalogue rows and limits."""
    if not owner:
        raise PersonaError("param_invalid", "the local owner's data is not an account's")
    catalogue = Catalogue(settings)
    job_ids = catalogue.job_ids(owner)
    catalogue.forget(owner)  # rows first: no route nor worker finds them any more
    for job_id in job_ids:
        if job_id and "/" not in job_id and not job_id.startswith("."):
            shutil.rmtree(settings.jobs_dir / job_id, ignore_errors=True)
    person = settings.replace(owner=owner).owner_root
    if person.parent == settings.home / PEOPLE_DIR:
        shutil.rmtree(person, ignore_errors=True)
    _erase_challenges(settings, owner)


def _erase_challenges(settings: Settings, owner: str) -> None:
    """The person's unused consent sentences (``persona.consent.challenge``: JSON with its owner)."""
    import json

    folder = settings.home / "consent" / "challenges"
    if not folder.is_dir():
        return
    for path in folder.glob("*.json"):
        try:
            if json.loads(path.read_text("utf-8")).get("owner") == owner:
                path.unlink(missing_ok=True)
        except (OSError, ValueError, AttributeError):
            continue
