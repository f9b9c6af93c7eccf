"""Job handler registries for tests, browser tests and benchmarks (never the production default).

``fixture_handlers()``: stand-ins that only report progress and write a result from fixture
assets (a fixture model, the uploaded song as the "cover"), plus a ``fixture`` kind that reports
``steps`` events and can fail or crash on request. They let the server, its tests and the browser
tests run without the neural engines, and measure the job system alone. Their pauses go through
an injected ``sleep`` so in-process tests run them at once; worker processes use real time (a
browser test needs a job that runs long enough to be stopped).

``tiny_handlers()``: the real engines, with training on the tiny configuration (``TINY_TRAIN``)
and fixture pretrained weights, so a CPU trains a model in seconds.

``HANDLER_SETS`` names both: ``persona serve|worker --handlers NAME`` (``--fixture-jobs``,
``--tiny-models``) picks one in the composition root, ``persona.cli.serve``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from persona.errors import Cancelled, PersonaError
from persona.jobs.handlers import (
    Handler,
    JobContext,
    attach_consent,
    cover_result,
    run_assets,
    run_cover,
    run_train,
)
from persona.messages import msg
from persona.settings import Settings

Sleep = Callable[[float], None]
# Previews stay on (the browser tests play them), scored by similarity + F0 only (no DNSMOS).
TINY_TRAIN = {"model_size": "tiny", "quality_report": False, "preview_metrics": ("similarity", "f0")}


def _steps(ctx: JobContext, stage: str, steps: int, step_s: float, sleep: Sleep) -> None:
    for i in range(steps):
        ctx.cancel.check()
        sleep(step_s)
        ctx.progress(stage, (i + 1) / steps, f"step {i + 1}/{steps}", step=i + 1)


def run_fixture(ctx: JobContext, sleep: Sleep = time.sleep) -> dict[str, Any]:
    """Report ``steps`` progress events ``step_s`` apart; fail with ``fail`` (a code) if given."""
    p = ctx.params
    _steps(ctx, p.get("stage", "work"), int(p.get("steps", 5)), float(p.get("step_s", 0.05)), sleep)
    if p.get("crash"):
        raise RuntimeError("fixture crash")
    if p.get("fail"):
        raise PersonaError(p["fail"], "the fixture job failed as asked")
    result = {"answer": 42, "attempt": ctx.attempt}
    (ctx.scratch / "result.txt").write_text("42")
    return result


def run_fixture_train(ctx: JobContext, sleep: Sleep = time.sleep) -> dict[str, Any]:
    """Train stand-in: epochs of fake progress, stopping as real training does: before the first
    finished epoch nothing is kept; after one, the model is kept."""
    from persona.library import ModelLibrary
    from persona.testing.rvc import write_small_model  # a tiny RVC model in the real format

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
            sleep(step_s / 10)
        if stopped:
            break
        done = epoch + 1
        from persona.testing.saves import write_fixture_save

        saved = write_fixture_save(ctx.settings, p["name"], epoch + 1)  # the page's chart and players
        ctx.progress(
            "train",
            (epoch + 1) / epochs,
            msg("train_epoch", epoch=epoch + 1, epochs=epochs),
            epoch=epoch + 1,
            loss_g=1.0 / (epoch + 1),
            **saved,
        )
    if stopped and done == 0:
        raise Cancelled("training stopped before the first save; nothing was kept")
    pth = write_small_model(ctx.scratch / "model.pth")
    ctx.cancel.check_owner()
    ModelLibrary(ctx.settings).add(
        p["name"], pth, source="trained", move=True, replace=True, metadata={"epochs": epochs}
    )
    attach_consent(ctx.settings, p, ctx.workdir)  # as the real training keeps it with the model
    if stopped:
        raise Cancelled("training stopped; the last model was kept")
    return {"model_name": p["name"], "epochs_done": epochs}


FIXTURE_PIECE_S = 2.0  # seconds of song per stand-in piece


def _grow_playable_part(ctx: JobContext, song: Path, pause_s: float, sleep: Sleep) -> None:
    """The stand-in's "convert" stage grows the playable part as a real cover does: the song
    itself, a piece every ``pause_s``, appended to the attempt's ``preview.pcm`` (s16le stereo at
    the song's rate) and announced by ``metrics.ready_frames``/``ready_s`` once it is on disk."""
    import numpy as np

    from persona.audio.io import load_audio
    from persona.audio.wavhead import PREVIEW_CHANNELS as CHANNELS
    from persona.audio.wavhead import PREVIEW_FILE

    try:
        audio, sr = load_audio(song, mono=False, max_channels=CHANNELS)
    except PersonaError:  # a test's placeholder bytes: nothing to play, the stages still report
        _steps(ctx, "convert", 2, pause_s, sleep)
        return
    if audio.shape[0] < CHANNELS:
        audio = np.repeat(audio[:1], CHANNELS, axis=0)
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).round().astype("<i2").T  # (frames, channels)
    n, step = pcm.shape[0], max(1, int(FIXTURE_PIECE_S * sr))
    with open(ctx.scratch / PREVIEW_FILE, "ab") as out:
        for piece, start in enumerate(range(0, n, step), start=1):
            ctx.cancel.check()
            sleep(pause_s)
            stop = min(n, start + step)
            out.write(pcm[start:stop].tobytes())
            out.flush()
            ctx.progress(
                "convert",
                stop / n,
                f"piece {piece}",
                ready_s=round(stop / sr, 3),
                ready_frames=stop,
                ready_rate=sr,
                pieces_ready=piece,
                song_s=round(n / sr, 3),
            )


def run_fixture_cover(ctx: JobContext, sleep: Sleep = time.sleep) -> dict[str, Any]:
    """Cover stand-in: fake separation, the song growing as the playable part piece by piece
    (``_grow_playable_part``), fake mixing, then the uploaded song as the cover."""
    from persona.library import CoverLibrary, ModelLibrary

    p = ctx.params
    ModelLibrary(ctx.settings).get(p["model"])
    step_s = float(p.get("_step_s", 0.1))
    _steps(ctx, "separate", 2, step_s, sleep)
    # The pause per piece (default ``_step_s``): the browser tests slow it down (environment of
    # the worker) to reload and to stop a cover while its playable part grows.
    pause_s = float(os.environ.get("PERSONA_FIXTURE_PIECE_PAUSE_S", step_s))
    _grow_playable_part(ctx, ctx.workdir / "inputs" / p["_song"], pause_s, sleep)
    _steps(ctx, "mix", 2, step_s, sleep)
    fmt = (p.get("options") or {}).get("format") or "wav"
    out = ctx.scratch / f"cover.{fmt}"
    if fmt == "wav":
        shutil.copyfile(ctx.workdir / "inputs" / p["_song"], out)
    else:  # in the format asked for, through the real encoder (audio/encode.py)
        from persona.audio.encode import write_array
        from persona.audio.io import load_audio

        audio, sr = load_audio(ctx.workdir / "inputs" / p["_song"], mono=False)
        write_array(out, audio, sr, fmt)
    ctx.cancel.check_owner()
    ctx.cancel.check()
    entry = CoverLibrary(ctx.settings).add(
        out,
        model=p["model"],
        song_name=p.get("song_name") or "song",
        pitch=p.get("pitch", 0),
        metadata={"job_id": ctx.job_id, "options": p.get("options", {})},  # as the real cover records
        original_path=ctx.workdir / "inputs" / p["_song"],
    )
    return cover_result(entry)


def fixture_handlers(sleep: Sleep = time.sleep) -> dict[str, Handler]:
    """Stand-ins for ``train`` and ``cover`` and the ``fixture`` kind; ``sleep`` paces them."""
    return {
        "train": functools.partial(run_fixture_train, sleep=sleep),
        "cover": functools.partial(run_fixture_cover, sleep=sleep),
        "fixture": functools.partial(run_fixture, sleep=sleep),
        "assets": run_assets,
    }


def tiny_handlers() -> dict[str, Handler]:
    """The real engines; training uses the tiny configuration on fixture weights."""
    return {
        "train": functools.partial(run_train, **TINY_TRAIN),
        "cover": run_cover,
        "fixture": run_fixture,
        "assets": run_assets,
    }


@dataclasses.dataclass(frozen=True)
class HandlerSet:
    make: Callable[[], dict[str, Handler]]
    needs_assets: bool  # its jobs need pretrained weights (the stand-ins need none)


HANDLER_SETS: dict[str, HandlerSet] = {
    "fixture": HandlerSet(fixture_handlers, needs_assets=False),
    "tiny": HandlerSet(tiny_handlers, needs_assets=True),
}


def settings_for(settings: Settings, name: str) -> Settings:
    """``settings`` as handler set ``name`` needs them: stand-ins that need no weights are not
    refused for missing ones (the web process and the worker read the same Settings)."""
    return settings if HANDLER_SETS[name].needs_assets else settings.replace(jobs_need_assets=False)
