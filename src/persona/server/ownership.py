"""Whose request this is, and the one place that checks it.

Every route and the Socket.IO subscribe handler reach models, covers, jobs, saves and previews
through these loaders: ``models()``/``covers()`` are the requesting person's libraries (their own
folders and catalogue rows), ``owned_model``/``owned_cover``/``owned_job`` load one object of
theirs. Another person's object answers the same 404 as a missing one (``model_not_found``,
``cover_not_found``, ``job_not_found``), so an answer never tells whether it exists.

The owner id comes from ``persona.server.identity.current_owner()`` (helper "auth"): None is the
single-person mode (no account exists), stored as the local owner ''. Admins see other people's
objects only through the admin routes, never through these loaders.

Shared jobs (``SHARED_KINDS``: the download of the pretrained weights every job needs) are the
server's, not a person's: everyone signed in may follow one (that weights are being fetched, its
progress and its end: ``owned_job``, ``job_answer``), but only whoever runs the server starts or
stops one and sees what it was asked for (``may_manage_shared``: the one person in single-person
mode, administrators in accounts mode); nobody else learns who started it.
"""

from __future__ import annotations

from typing import Any

from persona.catalogue.store import LOCAL_OWNER
from persona.errors import PersonaError
from persona.jobs.public import public_job
from persona.jobs.store import JobStore
from persona.library import CoverEntry, CoverLibrary, ModelEntry, ModelLibrary
from persona.server.identity import current_owner, is_admin
from persona.server.services import services
from persona.settings import Settings

# Jobs that belong to the server, not to a person: downloading the shared pretrained weights.
# Shown to everyone signed in, started and stopped only by whoever runs the server.
SHARED_KINDS = ("assets",)


def owner() -> str:
    """The requesting person's owner id ('' in single-person mode)."""
    found = current_owner()
    return LOCAL_OWNER if found is None else str(found)


def owner_settings() -> Settings:
    """The server's settings with the requesting person's folders."""
    return services().settings.replace(owner=owner())


def models() -> ModelLibrary:
    """The requesting person's model library; deletes and names see only their own jobs."""
    me = owner()
    store = services().queue.store
    return ModelLibrary(
        services().settings.replace(owner=me), in_use=lambda name: store.model_in_use(name, me)
    )


def covers() -> CoverLibrary:
    return CoverLibrary(owner_settings())


def owned_model(name: str) -> ModelEntry:
    return models().get(name)


def owned_cover(cover_id: str) -> CoverEntry:
    return covers().get(cover_id)


def check_quota(*, add_bytes: int = 0, add_models: int = 0, add_jobs: int = 0) -> None:
    """Refuse (413/429 ``quota_exceeded``) what would take the requesting person over a limit,
    before anything of it is stored. No limits in single-person mode."""
    me = owner()
    if me == LOCAL_OWNER:
        return
    from persona.accounts.store import Accounts
    from persona.catalogue.people import check_quota as check

    settings = services().settings
    check(
        settings,
        me,
        Accounts.of(settings).get(me),
        add_bytes=add_bytes,
        add_models=add_models,
        add_jobs=add_jobs,
    )


def may_manage_shared() -> bool:
    """May the requesting person start or stop the server's shared jobs and see their requests?"""
    return owner() == LOCAL_OWNER or is_admin()


def _admin_required() -> PersonaError:
    return PersonaError("admin_required", "only an administrator may do this", status=403)


def check_may_start(kind: str) -> None:
    """403 ``admin_required`` for a shared kind started by someone who does not run the server."""
    if kind in SHARED_KINDS and not may_manage_shared():
        raise _admin_required()


def job_visible(job: dict[str, Any], me: str) -> bool:
    return job.get("owner", LOCAL_OWNER) == me or job["kind"] in SHARED_KINDS


def owned_job(
    job_id: str, store: JobStore | None = None, me: str | None = None, *, change: bool = False
) -> dict[str, Any]:
    """The job row of ``job_id`` when it is the requesting person's (or a shared kind, to follow).
    ``change``: the caller means to act on it (stop it): a shared job only for its managers."""
    store = store or services().queue.store
    me = owner() if me is None else me
    job = store.get(job_id)
    if not job_visible(job, me):
        raise PersonaError("job_not_found", f"no job with id {job_id!r}", status=404)
    if change and job["kind"] in SHARED_KINDS and not may_manage_shared():
        raise _admin_required()
    return job


def job_answer(job: dict[str, Any]) -> dict[str, Any]:
    """The public job (``persona.jobs.public``) as the requesting person may see it: a shared
    job's request (``params``) only for its managers."""
    shown = public_job(job)
    if job["kind"] in SHARED_KINDS and not may_manage_shared():
        shown["params"] = {}
    return shown
