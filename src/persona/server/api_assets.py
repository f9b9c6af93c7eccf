"""``/api/assets``: which pretrained weights are missing (with sizes), what a job needs, and a
download job (kind ``assets``) the page starts with one button.

What counts as missing comes from ``persona.jobs.needs`` (what a job of that kind with those
options needs), so the banner, the Train/Cover buttons and the API's refusal of a job that
cannot run (``assets_needed``, 409) all say the same. The download itself runs in the worker,
reporting bytes, speed and ETA like any job; a second request while one is queued or running
answers with that job. It is the server's job (``persona.server.ownership.SHARED_KINDS``): in
accounts mode only administrators start it (``can_download`` says whether this person may),
everyone signed in follows it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from persona.errors import PersonaError
from persona.jobs.needs import NEEDY_KINDS
from persona.server import ownership
from persona.server.services import services

bp = Blueprint("assets", __name__)
DOWNLOAD_COMMAND = "persona assets download"


def _manager():
    from persona.assets import AssetManager

    return AssetManager(services().settings)


def _describe(manager, names: list[str]) -> list[dict[str, Any]]:
    out = []
    for name in names:
        asset = manager.asset(name)
        out.append({"name": name, "size": asset.size, "group": asset.group, "description": asset.description})
    return out


def _command(names: list[str]) -> str:
    return " ".join([DOWNLOAD_COMMAND, *names])


def needs_assets() -> bool:
    """``Settings.jobs_need_assets``: False where the workers keep their own weights or run
    stand-in jobs that need none (browser and server tests)."""
    return services().settings.jobs_need_assets


def missing_for(kind: str, params: dict[str, Any] | None) -> list[str]:
    if not needs_assets():
        return []
    from persona.jobs.needs import missing

    return missing(services().settings, kind, params, _manager())


def refuse_if_missing(kind: str, params: dict[str, Any] | None) -> None:
    """Raise ``assets_needed`` (409) before a job that cannot run is accepted."""
    names = missing_for(kind, params)
    if names:
        raise PersonaError(
            "assets_needed",
            f"this {kind} needs pretrained weights that are missing: {', '.join(names)}; "
            f"get them from the page or run `{_command(names)}`",
            status=409,
            params={"names": ", ".join(names), "assets": names, "kind": kind},
        )


def _active_job() -> dict | None:
    store = services().queue.store
    jobs = store.list(status=["queued", "running"], kind="assets", limit=1)
    return ownership.job_answer(jobs[0]) if jobs else None


@bp.get("/api/assets")
def assets_overview():
    """Missing weights per job kind (default options), their sizes, the CLI command, the job."""
    manager = _manager()
    if needs_assets():
        from persona.jobs.needs import missing_for_defaults

        by_kind = missing_for_defaults(services().settings, manager)
    else:
        by_kind = {kind: [] for kind in NEEDY_KINDS}
    names = list(dict.fromkeys(n for kind in by_kind.values() for n in kind))
    items = _describe(manager, names)
    sizes = [i["size"] for i in items]
    last = services().queue.store.list(kind="assets", limit=1)
    return jsonify(
        {
            "missing": items,
            "needs": by_kind,
            "missing_bytes": None if any(s is None for s in sizes) else sum(sizes),
            "command": _command([]) if names else "",
            "import_command": "persona assets import DIR",
            "job": _active_job(),
            "last_job": ownership.job_answer(last[0]) if last else None,
            "can_download": ownership.may_manage_shared(),
        }
    )


@bp.get("/api/assets/needs")
def assets_needs():
    """What a ``kind`` job with these options (query string, as the job's form) lacks."""
    from persona.server.validation import cover_form, form_value
    from persona.training.request import TRAIN_PARAMS

    kind = request.args.get("kind", "")
    if kind == "train":
        params = {}
        for key in ("sample_rate", "f0_method"):
            value = form_value(request.args, key, TRAIN_PARAMS[key])
            if value is not None:
                params[key] = value
    elif kind == "cover":
        params = cover_form(request.args)
    else:
        raise PersonaError(
            "param_invalid", f"'kind' must be one of {', '.join(NEEDY_KINDS)}", params={"field": "kind"}
        )
    manager = _manager()
    names = missing_for(kind, params)
    items = _describe(manager, names)
    sizes = [i["size"] for i in items]
    return jsonify(
        {
            "kind": kind,
            "missing": items,
            "missing_bytes": None if any(s is None for s in sizes) else sum(sizes),
            "command": _command(names) if names else "",
        }
    )


@bp.post("/api/assets/download")
def download_assets():
    """Queue the download of ``names`` (JSON list), default: everything a job kind lacks."""
    svc = services()
    ownership.check_may_start("assets")
    active = _active_job()
    if active is not None:
        return jsonify({"job_id": active["id"], "job": active}), 200
    body = request.get_json(silent=True) or {}
    names = body.get("names") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise PersonaError(
            "param_invalid", "'names' must be a list of asset names", params={"field": "names"}
        )
    manager = _manager()
    for name in names:
        manager.asset(name)  # asset_unknown before any job
    if not names:
        from persona.jobs.needs import missing_for_defaults

        lacking = missing_for_defaults(svc.settings, manager)
        names = list(dict.fromkeys(n for kind in lacking.values() for n in kind))
    job = svc.queue.submit("assets", {"names": names}, owner=ownership.owner())  # a shared kind
    return jsonify({"job_id": job["id"], "job": ownership.job_answer(job)}), 202
