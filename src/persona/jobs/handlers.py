"""What each job kind does, in the worker process: ``train``, ``cover`` and ``assets``.

A handler takes a ``JobContext`` and returns the job's ``result`` dict (API.md: training
``{model_name, ...}``, cover ``{cover_id, filename, audio_url, download_url}``). It reports through
``ctx.progress`` and stops at ``ctx.cancel``. Engine imports stay inside the handlers so the web
process never loads torch.

Which function runs which kind is written in the kind registry (``persona.jobs.kinds``); a
worker runs whatever handlers (kind -> handler) it is handed, ``default_handlers()`` being the
real ones. Stand-ins for tests and benchmarks are ``persona.testing.jobs``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from persona.errors import PersonaError
from persona.progress import CancelToken, ProgressFn
from persona.settings import Settings


@dataclasses.dataclass
class JobContext:
    settings: Settings
    job_id: str
    kind: str
    params: dict[str, Any]
    attempt: int
    workdir: Path
    progress: ProgressFn
    cancel: CancelToken
    scratch: Path | None = None  # this attempt's own folder (outputs before the library)

    def __post_init__(self) -> None:
        if self.scratch is None:
            self.scratch = self.workdir


Handler = Callable[[JobContext], dict[str, Any]]

# The engine modules a kind runs on: the first job of a fresh worker process spends seconds (tens
# on a busy CPU) importing them (torch, transformers), which nothing can stop; imported outside the
# job's thread (persona.interrupt.outside), a Stop meanwhile does not wait (the imports finish).
TRAIN_MODULES = ("persona.library.trained", "persona.training.trainer", "persona.training.loop",
                 "persona.training.features", "persona.rvc.content", "persona.rvc.f0.rmvpe")  # fmt: skip
COVER_MODULES = ("persona.cover.pipeline", "persona.rvc.convert", "persona.rvc.pipeline",
                 "persona.rvc.content", "persona.separation.engine")  # fmt: skip


def _import(modules: tuple[str, ...], cancel: CancelToken) -> None:
    import importlib

    from persona.interrupt import outside

    outside(lambda: [importlib.import_module(m) for m in modules], cancel)


def stopped_training(settings: Settings, job: dict[str, Any]) -> dict[str, Any]:
    """The result of a training the user stopped (by the runner, or by recovery after a
    restart): a stopped training keeps its last saved model, so the result points at it."""
    from persona.library import ModelLibrary

    name = job["params"].get("name")
    if name and ModelLibrary(settings).exists(name):
        attach_consent(settings, job["params"], Path(settings.jobs_dir) / job["id"])
        return {"model_name": name, "stopped": True, "saved": True}
    return {"saved": False}  # stopped before the first save: nothing was kept


def cover_result(entry) -> dict[str, Any]:
    d = entry.to_dict()
    return {
        "cover_id": entry.id,
        "filename": d["filename"],
        "audio_url": d["audio_url"],
        "download_url": d["download_url"],
    }


# ---- real engines -------------------------------------------------------------------------------
def _can_resume(settings: Settings, name: str) -> bool:
    """A restarted training resumes only when it got as far as a checkpoint; else it starts over."""
    from persona.rvc import train_checkpoint
    from persona.training.trainer import STATE_FILE, experiment_dir

    exp = experiment_dir(settings, name)
    return (exp / STATE_FILE).exists() and train_checkpoint.load_pair(exp) is not None


def run_train(ctx: JobContext, **request_fields: Any) -> dict[str, Any]:
    """``request_fields``: further TrainRequest fields (tests: ``persona.testing.jobs.TINY_TRAIN``)."""
    _import(TRAIN_MODULES, ctx.cancel)
    from persona.library.trained import train_into_library
    from persona.training import TrainRequest

    p = ctx.params
    if ctx.attempt > 1:
        from persona.library import ModelLibrary

        if ModelLibrary(ctx.settings).exists(p["name"]):  # the last run finished the model, then died
            return {"model_name": p["name"], "recovered": True}
    files = [ctx.workdir / "inputs" / f for f in p["_files"]]
    if p.get("_consent"):  # before any training: the reader of the consent is the voice trained
        from persona.messages import msg

        ctx.progress("preprocess", 0.0, msg("consent_check"))
        from persona.interrupt import interruptible

        with interruptible(ctx.cancel):  # the speaker encoder runs over every recording: seconds
            p["_consent"]["similarity"] = _verify_consent_voice(
                ctx.workdir / "inputs" / p["_consent"]["file"], files
            )
    resume = bool(p.get("resume")) and _can_resume(ctx.settings, p["name"])
    request = TrainRequest.from_params(p, files, resume=resume, **request_fields)
    try:
        result = train_into_library(ctx.settings, request, ctx.progress, ctx.cancel)
    except PersonaError as exc:
        raise _with_upload_names(exc, p) from None
    metrics = {k: v for k, v in result.metrics.items() if k != "history"}  # history lives in the model
    attach_consent(ctx.settings, p, ctx.workdir)
    return {
        "model_name": result.model_name,
        "epochs_done": result.epochs_done,
        "epochs": result.epochs,
        "stopped": result.stopped,
        "metrics": metrics,
        "warnings": result.warnings,
        "saves": result.saves,
    }


def _verify_consent_voice(clip_path: Path, recordings: list[Path]) -> float:
    from persona.audio.io import load_audio
    from persona.consent import speaker

    clip, _ = load_audio(clip_path, sr=16000, mono=True)
    return speaker.verify(clip, [load_audio(f, mono=True) for f in recordings])


def attach_consent(settings: Settings, params: dict[str, Any], workdir: Path) -> None:
    """Keep the training's consent with the model it allowed (once; a model saved by a stopped
    training gets it too)."""
    consent = params.get("_consent")
    if not consent:
        return
    from persona.consent import record
    from persona.library import ModelLibrary

    folder = ModelLibrary(settings).get(params["name"]).pth_path.parent
    if record.read(folder) is not None:
        return
    clip = workdir / "inputs" / consent["file"]
    record.write(folder, record.recorded(consent, clip.suffix), clip if clip.is_file() else None)


def _with_upload_names(exc: PersonaError, params: dict[str, Any]) -> PersonaError:
    """Name the file as the user chose it ("내녹음.m4a"), not as it was saved ("01.wav"): in
    ``params["file"]`` and wherever the message mentions it (a training's recordings, a cover's song)."""
    shown = {
        f: d.get("name") for f, d in zip(params.get("_files") or [], params.get("files") or [], strict=False)
    }
    if params.get("_song") and params.get("song_name"):
        shown[params["_song"]] = params["song_name"]
    internal = exc.params.get("file")
    for saved, name in shown.items():
        if not name or (saved != internal and saved not in exc.message):
            continue
        if internal in (None, saved):
            exc.params["file"] = name
        exc.message = exc.message.replace(saved, name)
    exc.args = (exc.message,)
    return exc


def run_cover(ctx: JobContext) -> dict[str, Any]:
    _import(COVER_MODULES, ctx.cancel)
    from persona.audio.wavhead import PREVIEW_FILE
    from persona.cover import CoverRequest, make_cover
    from persona.library import CoverLibrary, resolve_model_ref

    p = ctx.params
    song = ctx.workdir / "inputs" / p["_song"]
    out_dir = ctx.scratch / "output"
    out_dir.mkdir(parents=True, exist_ok=True)
    fmt = p.get("options", {}).get("format") or "wav"
    request = CoverRequest.from_params(p, song, out_dir / f"cover.{fmt}")
    try:
        result = make_cover(
            ctx.settings,
            request,
            ctx.progress,
            ctx.cancel,
            resolve_model=resolve_model_ref,
            preview=ctx.scratch / PREVIEW_FILE,  # served by GET /api/jobs/<id>/audio while it grows
        )
    except PersonaError as exc:
        raise _with_upload_names(exc, p) from None
    ctx.cancel.check_owner()  # fresh: a superseded or stopped attempt adds no cover
    ctx.cancel.check()
    meta = {
        "options": p.get("options", {}),
        "job_id": ctx.job_id,
        "stages": result.stages,
        "suggested_pitch": result.suggested_pitch,
        "loudness_lufs": result.loudness_lufs,
        "index_used": result.index_used,
        "quality": result.quality,
        "stems_cached": result.stems_cached,
        "provenance": result.provenance,
    }
    entry = CoverLibrary(ctx.settings).add(
        result.path,
        model=p["model"],
        song_name=p.get("song_name") or "song",
        pitch=result.pitch,  # the shift used: the automatic one (or its fallback) when asked for auto
        duration_s=round(float(result.duration_s), 3),
        metadata=meta,
        original_path=song,  # for the page's A/B comparison
    )
    return cover_result(entry)


def undo_cover(settings: Settings, result: dict[str, Any]) -> None:
    """A cover whose job result was refused (superseded, or stopped at the last moment) goes."""
    from persona.library import CoverLibrary

    if result.get("cover_id"):
        try:
            CoverLibrary(settings).delete(str(result["cover_id"]))
        except PersonaError:
            pass


def run_assets(ctx: JobContext) -> dict[str, Any]:
    """Download pretrained weights: ``params.names``, else what a default training and cover lack
    (``persona.jobs.needs``). Verified files only ever reach the assets folder."""
    from persona.assets import AssetManager
    from persona.jobs.needs import missing_for_defaults

    manager = AssetManager(ctx.settings)
    names = list(ctx.params.get("names") or [])
    if not names:
        lacking = missing_for_defaults(ctx.settings, manager)
        names = list(dict.fromkeys(n for kind in lacking.values() for n in kind))
    report = manager.download(names, progress=ctx.progress, cancel=ctx.cancel) if names else {}
    return {"names": names, "states": {n: st.state for n, st in report.items()}}


def default_handlers() -> dict[str, Handler]:
    """The real engines: what ``persona worker`` runs unless its composition root hands it
    another registry (``persona.cli.serve``; test stand-ins live in ``persona.testing.jobs``)."""
    from persona.jobs.kinds import KINDS, load

    return {name: load(kind.handler) for name, kind in KINDS.items()}
