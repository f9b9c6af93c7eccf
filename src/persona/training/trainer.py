"""``train_model``: recordings in, a voice model (``.pth`` + ``.index`` + what to keep with them) out.

Stages (each reports through one progress callback): check the request and the recordings,
preprocess (`preprocess.py`), f0 + content features (`features.py`), GAN training fine-tuned
from RVC's pretrained v2 base for the rate (`loop.py`), export of RVC's small model
(`export.py`), FAISS index (`index.py`), voice profile and quality report (`quality.py`). The
model is handed back to the caller (``TrainResult``: its files and metadata), which puts it
where it belongs (``persona.library.trained`` adds it to the library). The working folder
``<home>/training/<name>/`` keeps RVC's experiment layout (``0_gt_wavs``, ``1_16k_wavs``,
``2a_f0``, ``2b-f0nsf``, ``3_feature768``, ``filelist.txt``, ``G_*.pth``/``D_*.pth``) so a
stopped or crashed run can be resumed. The cancel token is checked inside every loop (per
recording, per segment, per training step). A stop before the first checkpoint is a plain
``Cancelled`` (``params.saved`` False): no model comes out. A stop after one is not an error: the
last saved epoch is exported (no training on, no quality report) and handed back; the result
says ``stopped=True``.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import soundfile as sf

from persona.errors import Cancelled, PersonaError
from persona.fsutil import atomic_write_text
from persona.interrupt import interruptible
from persona.messages import msg
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress, staged
from persona.rvc import train_checkpoint
from persona.settings import Settings
from persona.training import saves
from persona.training.clock import TrainingClock
from persona.training.config import TrainConfig, training_config
from persona.training.data import Example, read_filelist, write_filelist
from persona.training.request import STAGES, TrainRequest, TrainResult

log = logging.getLogger(__name__)

STATE_FILE = "dataset.json"


def experiment_dir(settings: Settings, name: str) -> Path:
    return settings.training_dir / name


def saved_target_epochs(settings: Settings, name: str) -> int | None:
    """The epoch target a stopped training of ``name`` was started with (for resuming)."""
    try:
        from persona.names import validate_model_name

        ckpt = train_checkpoint.load_pair(experiment_dir(settings, validate_model_name(name)))
    except PersonaError:
        return None
    return None if ckpt is None else ckpt.g.get("persona", {}).get("epochs")


def _pretrained(settings: Settings, request: TrainRequest, warnings: list[str]) -> tuple[Path, Path] | None:
    """Paths of the pretrained (G, D) base; None (with a loud warning) only when scratch is allowed."""
    if request.pretrained is not None:
        g, d = (Path(p) for p in request.pretrained)
    else:
        from persona.assets import AssetManager

        assets = AssetManager(settings)
        try:
            g = Path(assets.path(f"pretrained_v2/f0G{request.sample_rate}.pth"))
            d = Path(assets.path(f"pretrained_v2/f0D{request.sample_rate}.pth"))
        except PersonaError as exc:
            if not request.allow_scratch:
                raise PersonaError(
                    exc.code,
                    f"{exc.message} (training needs RVC's pretrained v2 base for {request.sample_rate}; "
                    "training from scratch is possible but sounds far worse)",
                    exc.status,
                ) from exc
            msg = (
                f"WARNING: the pretrained v2 base for {request.sample_rate} is missing; training FROM "
                "SCRATCH. Expect a noisy, barely usable voice unless you train for a very long time."
            )
            log.warning(msg)
            warnings.append(msg)
            return None
    return g, d


def _hold_out(examples: list[Example]) -> tuple[list[Example], Example | None]:
    """Keep the last segment aside for the quality report when there are enough to spare one."""
    if len(examples) >= 3:
        return examples[:-1], examples[-1]
    return examples, None


def _prepare(
    settings: Settings,
    request: TrainRequest,
    cfg: TrainConfig,
    exp: Path,
    stage,
    cancel: CancelToken,
) -> dict[str, Any]:
    from persona.assets import AssetManager
    from persona.training.features import extract_features, mute_examples, voice_profile
    from persona.training.preprocess import preprocess

    if exp.exists():
        shutil.rmtree(exp)
    exp.mkdir(parents=True)
    device = settings.resolved_device()
    with interruptible(cancel):  # a long recording's decoding stops within a block
        pre = preprocess(
            settings,
            request.files,
            exp,
            cfg.data.sampling_rate,
            min_voice_seconds=request.min_voice_seconds,
            preview=request.previews,
            progress=stage("preprocess"),
            cancel=cancel,
        )
    assets = AssetManager(settings)
    feats = extract_features(
        pre.segments,
        exp,
        sr=cfg.data.sampling_rate,
        f0_method=request.f0_method,
        f0_unvoiced=request.f0_unvoiced,
        assets=assets,
        device=device,
        progress=stage("features"),
        cancel=cancel,
    )
    if not feats.examples:
        raise PersonaError("no_voice", "no pitched voice was found in the recordings")
    # The preview slice is the held-out audio when there is one; else the last segment (report only).
    train_examples, held = (feats.examples, None) if pre.preview else _hold_out(feats.examples)
    cancel.check()
    mute = mute_examples(exp, sr=cfg.data.sampling_rate, assets=assets, device=device, cancel=cancel)
    write_filelist(exp / "filelist.txt", train_examples + mute)
    state = {
        "name": request.name,
        "sample_rate": request.sample_rate,
        "f0_method": request.f0_method,
        "f0_unvoiced": request.f0_unvoiced,
        "model_size": request.model_size,
        "config_overrides": request.config_overrides,
        "voice_seconds": round(pre.voice_seconds, 2),
        "segments": len(feats.examples),
        "held_out": str(pre.preview) if pre.preview else (str(held.wav) if held else None),
        "preview_source": str(pre.preview) if pre.preview else None,
        "preview_off": pre.preview_off or (None if request.previews else "previews were turned off"),
        "voice_profile": voice_profile(feats.voiced_f0),
        # The held-out segment stays out of the index too, so the quality score is honest.
        "features": [str(e.feature) for e in train_examples],
    }
    atomic_write_text(exp / STATE_FILE, json.dumps(state, ensure_ascii=False, indent=2))
    return state


def _quality(
    settings: Settings,
    model_path: Path,
    index_path: Path | None,
    state: dict,
    examples: list[Example],
    f0_method: str,
) -> dict[str, Any]:
    from persona.quality import evaluate, speaker
    from persona.rvc.convert import convert_audio
    from persona.rvc.options import ConversionOptions

    if not state.get("held_out"):
        return {"speaker_similarity": None, "note": "too little audio to hold a segment out"}
    held, sr = sf.read(state["held_out"], dtype="float32")
    converted, out_sr = convert_audio(
        settings, model_path, held, sr, ConversionOptions(f0_method=f0_method), index=index_path
    )
    training = [sf.read(e.wav, dtype="float32")[0] for e in examples if "mute" not in e.wav.parts]
    voice = speaker.voice_embedding(training[:40], sr)
    scores = evaluate(converted, out_sr, held, sr, voice=voice, conversion_f0=f0_method)
    return {
        **scores,
        "reference_similarity": speaker.similarity(speaker.embed(held, sr), voice),
        "held_out_seconds": round(len(held) / sr, 2),
        "encoder": "resemblyzer-ge2e",
    }


def train_model(
    settings: Settings,
    request: TrainRequest,
    progress: ProgressFn = null_progress,
    cancel: CancelToken = NEVER_CANCELLED,
) -> TrainResult:
    """Train (or resume) the voice model ``request.name``; its files stay in the experiment folder
    until the caller takes them (``TrainResult.model_path``/``index_path``/``metadata``). Whether
    the name is free is the caller's question (``persona.library.trained``)."""
    from persona.runtime import tune_allocator

    request.validate()
    tune_allocator()  # activations stay on the heap: no page faults per op (persona.runtime)
    exp = experiment_dir(settings, request.name)
    warnings: list[str] = []
    # The time left comes from the stages' measured costs (clock.py), not the overall fraction.
    stage = staged(TrainingClock(request.epochs, request.save_every).wrap(progress), STAGES)
    started = time.monotonic()

    state_path = exp / STATE_FILE
    if request.resume:
        if not state_path.exists() or train_checkpoint.load_pair(exp) is None:
            raise PersonaError(
                "nothing_to_resume", f"no stopped training named {request.name!r} to resume", status=404
            )
        state = json.loads(state_path.read_text(encoding="utf-8"))
        request.sample_rate, request.f0_method = state["sample_rate"], state["f0_method"]
        # A training prepared before the convention was recorded filled unvoiced frames.
        request.f0_unvoiced = state.get("f0_unvoiced", "interpolate")
        request.model_size = state.get("model_size", request.model_size)
        request.config_overrides = state.get("config_overrides") or request.config_overrides
    cfg = training_config(request.sample_rate, request.model_size, **request.config_overrides)
    if not request.resume:
        state = _prepare(settings, request, cfg, exp, stage, cancel)
    cancel.check()
    stage("features")("features", 1.0)

    from persona.training import loop

    examples = read_filelist(exp / "filelist.txt")
    ckpt = train_checkpoint.load_pair(exp)
    resume_after = ckpt.epoch if ckpt is not None else None
    del ckpt  # only its epoch is needed here; the loop loads it again
    base = None if resume_after is not None else _pretrained(settings, request, warnings)
    used_pretrained = base is not None or request.resume

    def load_base() -> tuple[dict, dict] | None:
        # Loaded inside the loop so that nothing keeps the base weights alive after they are copied.
        return (
            None
            if base is None
            else (train_checkpoint.load_pretrained(base[0]), train_checkpoint.load_pretrained(base[1]))
        )

    from persona.training.index import build_index
    from persona.training.previews import SaveKeeper

    # The index only needs the features: built before training, previews use it as a cover would.
    index_path = build_index(
        [Path(p) for p in state["features"]], exp, request.name, seed=cfg.train.seed, cancel=cancel
    )
    cancel.check()
    preview_source = state.get("preview_source")
    keeper = SaveKeeper(
        settings,
        exp,
        cfg,
        f0_method=request.f0_method,
        f0_unvoiced=request.f0_unvoiced,
        preview_source=Path(preview_source) if preview_source and Path(preview_source).is_file() else None,
        training_wavs=[e.wav for e in examples if "mute" not in e.wav.parts],
        index_path=index_path,
        prefer=request.export,
        metrics=request.preview_metrics,
        keep_last=request.keep_saves,
    )
    keeper.start(
        previews_enabled=bool(preview_source) and request.previews,
        reason=state.get("preview_off") or (None if request.previews else "previews were turned off"),
        resume_after=resume_after if request.resume else None,
    )
    # The scoring to come (each save's preview, or with previews off the export's quality report)
    # is priced before the loop; the clock (clock.py) reads these facts from the event below.
    report = not keeper.previews_enabled and request.quality_report and bool(state.get("held_out"))
    with interruptible(cancel):  # made here it is stoppable, not a second more after a Stop
        if keeper.previews_enabled:  # needed at the first save and kept with the model, stopped or not
            keeper.voice_embedding()
        facts = keeper.warm_up(Path(state["held_out"]) if report else None)
    cancel.check()
    stage("train")(
        "train",
        0.0,
        "",
        previews=keeper.previews_enabled,
        report=report,
        voice_seconds=state.get("voice_seconds"),
        **facts,
    )
    if warnings:
        stage("train")("train", 0.0, msg("train_from_scratch"))
    outcome = loop.run(
        cfg,
        examples,
        exp,
        epochs=request.epochs,
        batch_size=request.batch_size,
        save_every=request.save_every,
        pretrained=load_base,
        device=settings.resolved_device(),
        progress=stage("train"),
        cancel=cancel,
        on_epoch=keeper.on_epoch,
        on_save=keeper.on_save,
    )

    if outcome.stopped and outcome.epochs_done == 0:
        raise Cancelled("training stopped before the first save; nothing was kept", saved=False)

    from persona.training.export import export_small_model

    export = stage("export")
    export("export", 0.0, msg("export_model"))
    model_path, exported_epoch, choice = keeper.final_model(exp / f"{request.name}.pth")
    if exported_epoch is None:
        model_path = export_small_model(
            outcome.net_g.cpu(), cfg, outcome.epochs_done, model_path, f0_unvoiced=request.f0_unvoiced
        )
        exported_epoch = outcome.epochs_done
        keeper.exported(exported_epoch)
    export("export", 0.3, msg("export_scoring"))
    quality: dict[str, Any] = {}
    scored = keeper.saved_metrics(exported_epoch) if exported_epoch is not None else None
    if scored and "unavailable" in scored and "preview" not in scored["unavailable"]:
        # The exported save was scored on the held-out slice already: the same report, no new work.
        quality = {
            **scored,
            "epoch": exported_epoch,
            "held_out_seconds": keeper.ledger["previews"].get("seconds"),
        }
        quality["encoder"] = "resemblyzer-ge2e"
    elif request.quality_report and not outcome.stopped:
        try:
            quality = _quality(settings, model_path, index_path, state, examples, request.f0_method)
        except PersonaError as exc:
            quality = {"speaker_similarity": None, "error": exc.message}
        except Exception as exc:  # the report is a bonus: it never fails a finished training
            log.exception("quality report failed")
            quality = {"speaker_similarity": None, "error": f"{type(exc).__name__}: {exc}"}
    last = {k: v for k, v in (outcome.history[-1] if outcome.history else {}).items()}
    metrics = {
        "last_epoch": last,
        "history": outcome.history,
        "initial_eval_mel": outcome.initial_eval_mel,
        "train_seconds": round(outcome.seconds, 2),
        "total_seconds": round(time.monotonic() - started, 2),
        "global_step": outcome.global_step,
    }
    voice = None
    if keeper.previews_enabled or (request.quality_report and not outcome.stopped):
        try:  # the voice, kept with the model: covers and `persona evaluate` score similarity to it
            from persona.quality import embedding_for_metadata

            voice = embedding_for_metadata(keeper.voice_embedding())
        except Exception:  # noqa: BLE001 - a bonus, never a failed training
            log.exception("voice embedding failed")
    metadata = {
        "voice_profile": state.get("voice_profile"),
        "voice_embedding": voice,
        "quality": quality,
        "training": {
            "epochs": request.epochs,
            "epochs_done": outcome.epochs_done,
            "stopped": outcome.stopped,
            "batch_size": request.batch_size,
            "f0_method": request.f0_method,
            "f0_unvoiced": request.f0_unvoiced,
            "voice_seconds": state.get("voice_seconds"),
            "pretrained": used_pretrained,
            "model_size": request.model_size,
            "exported_epoch": exported_epoch,
            "export": request.export,
            "choice": choice,
            "previews": keeper.ledger["previews"],
        },
    }
    return TrainResult(
        model_name=request.name,
        epochs_done=outcome.epochs_done,
        epochs=request.epochs,
        stopped=outcome.stopped,
        model_path=Path(model_path),
        index_path=Path(index_path) if index_path else None,
        metadata=metadata,
        voice_profile=state.get("voice_profile"),
        quality=quality,
        metrics=metrics,
        warnings=warnings,
        saves=saves.summary(keeper.ledger),
    )
