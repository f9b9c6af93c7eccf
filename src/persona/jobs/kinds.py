"""Every job kind in one place: what a ``train``, ``cover`` or ``assets`` job is to each part of Persona.

A ``JobKind`` says which route queues it, its request parameters (``persona.params`` specs), the
handler a worker runs, the pretrained weights it needs, how it uses the device (and so which
queue it waits in), what recovery does after a restart, the stages it reports in order, and the
shape of its result. The worker, the queue, recovery, the waits, the needs check, the API's
validation, the OpenAPI document, ``GET /api/health`` and the page all read it here, so adding a
kind (or a field to every kind) is one entry, not eight edits.

Handlers, needs and the engines' stage lists are named as ``"module:attribute"`` and imported only
when asked for: this module is light (no torch, no Flask), so the web process can read it.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from persona.errors import PersonaError

EXCLUSIVE, SHARED = "exclusive", "shared"  # all device slots / one slot (``jobs.devicelock``)


@dataclasses.dataclass(frozen=True)
class JobKind:
    name: str
    summary: str  # one line, for OpenAPI
    route: str  # the API route that queues it
    handler: str  # "module:function" (JobContext) -> result; imported only by workers
    stages: str  # "module:NAME": the stages in run order (names, or (name, weight) pairs)
    result: dict[str, Any]  # the result's JSON schema (API.md)
    params: str | None = None  # "module:NAME": the request's ``persona.params`` specs
    needs: str | None = None  # "module:function" (settings, params, present) -> groups of asset names
    device_use: str | None = None  # EXCLUSIVE, SHARED, or None: runs beside the device queue
    max_attempts: int = 1  # runs before recovery gives up on a job a restart interrupted
    resumes: bool = False  # a rerun continues from its checkpoint (recovery sets ``resume``)
    stopped: str | None = None  # "module:function" (settings, job) -> the result of a stopped job
    undo: str | None = None  # "module:function" (settings, result): remove a refused attempt's output

    @property
    def uses_device(self) -> bool:
        """Waits for the device (a device-class queue, a place in the queue, device slots)."""
        return self.device_use is not None

    def stage_names(self) -> list[str]:
        return [s if isinstance(s, str) else s[0] for s in load(self.stages)]

    def param_specs(self) -> dict[str, Any]:
        return load(self.params) if self.params else {}


def load(ref: str) -> Any:
    """The object ``"module:attribute"`` names (imported now, not when this module loads)."""
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def _object(**types: str) -> dict[str, Any]:
    """A JSON schema object whose properties have these JSON types."""
    return {"type": "object", "properties": {name: {"type": t} for name, t in types.items()}}


# One entry a kind, grouped: what it is and who queues it; what runs it (and what a stop or a
# refused result does); what it asks for and reports; what it needs; the device; after a restart.
_TRAIN = JobKind(
    "train", "train a voice model from recordings", route="/api/trainings",
    handler="persona.jobs.handlers:run_train", stopped="persona.jobs.handlers:stopped_training",
    params="persona.training.request:TRAIN_PARAMS", stages="persona.training.request:STAGES",
    needs="persona.jobs.needs:train_requirements", device_use=EXCLUSIVE, max_attempts=3, resumes=True,
    result=_object(model_name="string", epochs_done="integer", epochs="integer", stopped="boolean",
                   saved="boolean", metrics="object", warnings="array", saves="array"),
)  # fmt: skip
_COVER = JobKind(
    "cover", "make a cover of a song with a model", route="/api/covers",
    handler="persona.jobs.handlers:run_cover", undo="persona.jobs.handlers:undo_cover",
    params="persona.cover.request:COVER_PARAMS", stages="persona.cover.request:STAGES",
    needs="persona.jobs.needs:cover_requirements", device_use=SHARED,
    max_attempts=2,  # deterministic, with cached stems: one more run, then give up
    result=_object(cover_id="string", filename="string", audio_url="string", download_url="string"),
)  # fmt: skip
_ASSETS = JobKind(
    "assets", "download pretrained weights", route="/api/assets/download",
    handler="persona.jobs.handlers:run_assets", stages="persona.assets.downloader:STAGES",
    result=_object(names="array", states="object"),
)  # fmt: skip
KINDS: dict[str, JobKind] = {kind.name: kind for kind in (_TRAIN, _COVER, _ASSETS)}
NAMES = tuple(KINDS)


def get(name: str) -> JobKind:
    """The kind ``name``; 400 ``param_invalid`` for one Persona does not know."""
    try:
        return KINDS[name]
    except KeyError:
        raise PersonaError(
            "param_invalid", f"'kind' must be one of {', '.join(NAMES)}", params={"field": "kind"}
        ) from None


def device_use(name: str) -> str | None:
    kind = KINDS.get(name)
    return kind.device_use if kind else None


def uses_device(name: str) -> bool:
    return device_use(name) is not None


def stage_orders() -> dict[str, list[str]]:
    """``{kind: [stage, ...]}``: what the page lists (a page opened mid-job shows earlier stages)."""
    return {name: kind.stage_names() for name, kind in KINDS.items()}


def stopped_result(settings, job: dict[str, Any]) -> dict[str, Any] | None:
    """The result of a job the user stopped (by the runner, or by recovery after a restart)."""
    kind = KINDS.get(job["kind"])
    return load(kind.stopped)(settings, job) if kind and kind.stopped else None


def undo_result(settings, job: dict[str, Any], result: Any) -> None:
    """Remove what an attempt whose result was refused made visible (a cover it added)."""
    kind = KINDS.get(job["kind"])
    if kind and kind.undo and isinstance(result, dict):
        load(kind.undo)(settings, result)
