"""What each job kind does, in the worker process: ``train``, ``cover``, and ``fixture``.

A handler takes a ``JobContext`` and returns the job's ``result`` dict (API.md: training
``{model_name, ...}``, cover ``{cover_id, filename, audio_url, download_url}``). It reports through
``ctx.progress`` and stops at ``ctx.cancel``. Engine imports stay inside the handlers so the web
process never loads torch.

``fixture`` handlers (and ``fixture_handlers()`` replacing train/cover) only report progress and
write a result from fixture assets: they let the server, its tests and the browser tests run
without the neural engines, and measure the job system alone.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from persona.errors import Cancelled, PersonaError
from persona.messages import msg
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
# How each kind uses the device: "exclusive" (all slots), "shared" (one slot) or None.
DEVICE_USE = {"train": "exclusive", "cover": "shared", "fixture": None, "assets": None}


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
    from persona.training import checkpoints
    from persona.training.trainer import STATE_FILE, experiment_dir

    exp = experiment_dir(settings, name)
    return (exp / STATE_FILE).exists() and checkpoints.load(exp) is not None


def run_train(ctx: JobContext) -> dict[str, Any]:
    from persona.training import TrainRequest, train_model

    p = ctx.params
    if ctx.attempt > 1:
        from persona.library import ModelLibrary

        if ModelLibrary(ctx.settings).exists(p["name"]):  # the last run finished the model, then died
            return {"model_name": p["name"], "recovered": True}
    files = [ctx.workdir / "inputs" / f for f in p["_files"]]
    resume = bool(p.get("resume")) and _can_resume(ctx.settings, p["name"])
    # _train_overrides: tests set extra fields (tiny model size, fixture pretrained weights).
    request = TrainRequest.from_params(p, files, resume=resume, **(p.get("_train_overrides") or {}))
    try:
        result = train_model(ctx.settings, request, ctx.progress, ctx.cancel)
    except PersonaError as exc:
        raise _with_upload_names(exc, p) from None
    metrics = {k: v for k, v in result.metrics.items() if k != "history"}  # history lives in the model
    return {
        "model_name": result.model_name,
        "epochs_done": result.epochs_done,
        "epochs": result.epochs,
        "stopped": result.stopped,
        "metrics": metrics,
        "warnings": result.warnings,
    }


def _with_upload_names(exc: PersonaError, params: dict[str, Any]) -> PersonaError:
    """Name the file as the user chose it ("내녹음.m4a"), not as it was saved ("01.wav")."""
    shown = {
        f: d.get("name") for f, d in zip(params.get("_files") or [], params.get("files") or [], strict=False)
    }
    internal = exc.params.get("file")
    if internal in shown and shown[internal]:
        exc.params["file"] = shown[internal]
        exc.message = exc.message.replace(internal, shown[internal])
        exc.args = (exc.message,)
    return exc


def run_cover(ctx: JobContext) -> dict[str, Any]:
    from persona.cover import CoverRequest, make_cover
    from persona.library import CoverLibrary

    p = ctx.params
    song = ctx.workdir / "inputs" / p["_song"]
    out_dir = ctx.scratch / "output"
    out_dir.mkdir(parents=True, exist_ok=True)
    fmt = p.get("options", {}).get("format") or "wav"
    request = CoverRequest.from_params(p, song, out_dir / f"cover.{fmt}")
    result = make_cover(ctx.settings, request, ctx.progress, ctx.cancel)
    ctx.cancel.check_owner()  # fresh: a superseded or stopped attempt adds no cover
    ctx.cancel.check()
    meta = {
        "options": p.get("options", {}),
        "job_id": ctx.job_id,
        "stages": result.stages,
        "suggested_pitch": result.suggested_pitch,
        "pitch_used": result.pitch,
        "loudness_lufs": result.loudness_lufs,
        "index_used": result.index_used,
        "stems_cached": result.stems_cached,
    }
    entry = CoverLibrary(ctx.settings).add(
        result.path,
        model=p["model"],
        song_name=p.get("song_name") or "song",
        pitch=p.get("pitch", 0),
        duration_s=round(float(result.duration_s), 3),
        metadata=meta,
        original_path=song,  # for the page's A/B comparison
    )
    return cover_result(entry)


def run_assets(ctx: JobContext) -> dict[str, Any]:
    """Download pretrained weights: ``params.names``, else what a default training and cover lack
    (``persona.assets.needs``). Verified files only ever reach the assets folder."""
    from persona.assets import AssetManager
    from persona.assets.needs import missing_for_defaults

    manager = AssetManager(ctx.settings)
    names = list(ctx.params.get("names") or [])
    if not names:
        lacking = missing_for_defaults(ctx.settings, manager)
        names = list(dict.fromkeys(n for kind in lacking.values() for n in kind))
    report = manager.download(names, progress=ctx.progress, cancel=ctx.cancel) if names else {}
    return {"names": names, "states": {n: st.state for n, st in report.items()}}


# ---- fixtures ---------------------------------------------------------------------------------------
def _steps(ctx: JobContext, stage: str, steps: int, step_s: float, **metrics: Any) -> None:
    for i in range(steps):
        ctx.cancel.check()
        time.sleep(step_s)
        ctx.progress(stage, (i + 1) / steps, f"step {i + 1}/{steps}", step=i + 1, **metrics)


def run_fixture(ctx: JobContext) -> dict[str, Any]:
    """Report ``steps`` progress events ``step_s`` apart; fail with ``fail`` (a code) if given."""
    p = ctx.params
    _steps(ctx, p.get("stage", "work"), int(p.get("steps", 5)), float(p.get("step_s", 0.05)))
    if p.get("crash"):
        raise RuntimeError("fixture crash")
    if p.get("fail"):
        raise PersonaError(p["fail"], "the fixture job failed as asked")
    result = {"answer": 42, "attempt": ctx.attempt}
    (ctx.scratch / "result.txt").write_text("42")
    return result


def run_fixture_train(ctx: JobContext) -> dict[str, Any]:
    """Train stand-in: epochs of fake progress, stopping as real training does: before the first
    finished epoch nothing is kept; after one, the model is kept."""
    from persona.library import ModelLibrary
    from persona.testing.home import write_fixture_model

    p = ctx.params
    epochs = int(p.get("epochs", 2))
    step_s = float(p.get("_step_s", 0.3))
    stopped = False
    start = int(p.get("_done", 0)) if ctx.attempt > 1 else 0
    done = start
    for epoch in range(start, epochs):
        for _ in range(10):  # a stop is seen within a tenth of an epoch
            try:
                ctx.cancel.check()
            except Cancelled:
                stopped = True
                break
            time.sleep(step_s / 10)
        if stopped:
            break
        done = epoch + 1
        ctx.progress(
            "train",
            (epoch + 1) / epochs,
            msg("train_epoch", epoch=epoch + 1, epochs=epochs),
            epoch=epoch + 1,
            loss_g=1.0 / (epoch + 1),
        )
    if stopped and done == 0:
        raise Cancelled("training stopped before the first save; nothing was kept")
    pth = write_fixture_model(ctx.scratch / "model.pth")
    ctx.cancel.check_owner()
    ModelLibrary(ctx.settings).add(
        p["name"], pth, source="trained", move=True, replace=True, metadata={"epochs": epochs}
    )
    if stopped:
        raise Cancelled("training stopped; the last model was kept")
    return {"model_name": p["name"], "epochs_done": epochs}


def run_fixture_cover(ctx: JobContext) -> dict[str, Any]:
    from persona.library import CoverLibrary, ModelLibrary

    p = ctx.params
    ModelLibrary(ctx.settings).get(p["model"])
    for stage in ("separate", "convert", "mix"):
        _steps(ctx, stage, 2, float(p.get("_step_s", 0.1)))
    out = ctx.scratch / "cover.wav"
    shutil.copyfile(ctx.workdir / "inputs" / p["_song"], out)
    ctx.cancel.check_owner()
    ctx.cancel.check()
    entry = CoverLibrary(ctx.settings).add(
        out,
        model=p["model"],
        song_name=p.get("song_name") or "song",
        pitch=p.get("pitch", 0),
        metadata={"job_id": ctx.job_id},
    )
    return cover_result(entry)


def default_handlers(train_overrides: dict[str, Any] | None = None) -> dict[str, Handler]:
    """The real engines. ``train_overrides`` (tests, browser tests) set extra TrainRequest fields,
    e.g. ``{"model_size": "tiny", "quality_report": False}`` to train on fixture weights."""
    if not train_overrides:
        return {"train": run_train, "cover": run_cover, "fixture": run_fixture, "assets": run_assets}

    def train(ctx: JobContext) -> dict[str, Any]:
        ctx.params = {
            **ctx.params,
            "_train_overrides": {**train_overrides, **(ctx.params.get("_train_overrides") or {})},
        }
        return run_train(ctx)

    return {"train": train, "cover": run_cover, "fixture": run_fixture, "assets": run_assets}


TINY_TRAIN = {"model_size": "tiny", "quality_report": False}


def fixture_handlers() -> dict[str, Handler]:
    return {
        "train": run_fixture_train,
        "cover": run_fixture_cover,
        "fixture": run_fixture,
        "assets": run_assets,
    }
