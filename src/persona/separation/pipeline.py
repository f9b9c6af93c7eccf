"""Separate a song into the stems a cover needs, through the stems cache.

Stages (each one model pass over a file, see ``engine.separate_stream``; ``_STAGE_STEMS``):
1. vocals model on the mix -> ``vocals`` + ``instrumental`` (= mix - vocals);
2. optional karaoke model on the vocals -> ``lead`` + ``backing`` (= vocals - lead);
3. optional de-reverb model on the lead (or the vocals) -> ``dry`` (its reverb residue is dropped;
   the mixer can add a fresh reverb after conversion).
``to_convert`` names the stem the voice model sings: dry, else lead, else vocals.
With one model (no karaoke, no de-reverb) ``on_block`` sees each finished span of ``vocals`` and
``instrumental`` while the rest is still being separated (a progressive cover starts from it).
Loaded models are kept per process (two at most) so a worker does not reload 600 MB per song.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from persona.errors import PersonaError
from persona.interrupt import outside
from persona.messages import msg
from persona.precision import SEPARATION, use_bf16
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress
from persona.separation import engine
from persona.separation.cache import StemsCache, cache_key
from persona.separation.models import DEFAULT_MODEL, DEREVERB_MODEL, KARAOKE_MODEL, SeparationModel, get_model
from persona.settings import Settings


@dataclasses.dataclass(frozen=True)
class SeparationOptions:
    model: str = DEFAULT_MODEL
    lead_backing: bool = False  # split lead / backing vocals (karaoke model)
    dereverb: bool = False  # de-reverb the vocal before conversion

    def models(self) -> list[SeparationModel]:
        out = [get_model(self.model, "vocals")]
        if self.lead_backing:
            out.append(get_model(KARAOKE_MODEL, "karaoke"))
        if self.dereverb:
            out.append(get_model(DEREVERB_MODEL, "dereverb"))
        return out


@dataclasses.dataclass(frozen=True)
class Stems:
    paths: dict[str, Path]  # vocals, instrumental, [lead, backing], [dry]
    cached: bool  # True when separation was skipped

    @property
    def to_convert(self) -> Path:
        for name in ("dry", "lead", "vocals"):
            if name in self.paths:
                return self.paths[name]
        raise KeyError("no vocal stem")

    @property
    def backing(self) -> Path | None:
        return self.paths.get("backing")

    @property
    def instrumental(self) -> Path:
        return self.paths["instrumental"]


def asset_path(settings: Settings, name: str) -> Path:
    """Path of a present asset, else PersonaError ``asset_missing`` saying how to get it."""
    try:
        from persona.assets import AssetManager
    except ImportError:  # the assets package is optional for the engine's own tests
        path = settings.assets / name
        if path.is_file():
            return path
        raise PersonaError(
            "asset_missing",
            f"missing pretrained file {name!r}: run `persona assets download {name}` "
            f"or put it at {path} (`persona assets import DIR`)",
        ) from None
    return AssetManager(settings).path(name)


def model_installed(settings: Settings, name: str) -> bool:
    """Whether every file of separation model ``name`` is in the assets folder."""
    try:
        for asset in get_model(name).assets:
            asset_path(settings, asset)
    except PersonaError:
        return False
    return True


def check_assets(settings: Settings, options: SeparationOptions) -> None:
    """Fail early (before any work) when a model file is missing."""
    for model in options.models():
        for asset in model.assets:
            asset_path(settings, asset)


_LOADED: OrderedDict[tuple, engine.ModelRunner] = OrderedDict()
_LOADED_LOCK = threading.Lock()
_MAX_LOADED = 2


def bf16(settings: Settings, model: SeparationModel) -> bool:
    """Whether ``model`` runs in bf16 here (``persona.precision``: PERSONA_BF16 and the CPU)."""
    return use_bf16(SEPARATION, settings.bf16, settings.resolved_device()) and model.bf16


def _runner(settings: Settings, model: SeparationModel) -> engine.ModelRunner:
    weights = asset_path(settings, model.weights)
    config = asset_path(settings, model.config)
    st = weights.stat()
    device, low = settings.resolved_device(), bf16(settings, model)
    key = (model.name, str(weights), st.st_size, st.st_mtime_ns, device, low)
    with _LOADED_LOCK:
        if key in _LOADED:
            _LOADED.move_to_end(key)
            return _LOADED[key]
    runner = engine.load_separator(model, weights, config, device, bf16=low)
    with _LOADED_LOCK:
        _LOADED[key] = runner
        while len(_LOADED) > _MAX_LOADED:
            _, old = _LOADED.popitem(last=False)
            old.close()
    return runner


def unload_models() -> None:
    with _LOADED_LOCK:
        while _LOADED:
            _LOADED.popitem()[1].close()


BlockFn = Callable[[int, dict[str, np.ndarray]], None]

# What each stage writes, by its model's role: (target stem, residual stem, keep the residual).
_STAGE_STEMS = {
    "vocals": ("vocals", "instrumental", True),
    "karaoke": ("lead", "backing", True),
    "dereverb": ("dry", "reverb", False),  # the mixer can add a fresh reverb after conversion
}


def separate_song(
    settings: Settings,
    song_wav: Path,
    song_sha256: str,
    sr: int,
    options: SeparationOptions = SeparationOptions(),
    *,
    progress: ProgressFn = null_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    segment_s: float = engine.SEGMENT_S,
    on_block: BlockFn | None = None,
) -> Stems:
    """Stems of the decoded song ``song_wav`` (float WAV at ``sr``), from the cache when possible.

    ``on_block(start, {"vocals": (2, n), "instrumental": (2, n)})`` is called for each finished
    span, in order, when one model separates the song afresh; never on a cache hit or with
    karaoke / de-reverb (their stems exist only at the end): the caller reads the files then.
    """
    models = options.models()
    params = {
        "sr": sr,
        "models": [m.name for m in models],
        "lead_backing": options.lead_backing,
        "dereverb": options.dereverb,
        "segment": ["steps", segment_s],  # whole model steps near segment_s (engine.segment_frames)
        "overlap": engine.OVERLAP_S,
    }
    low = [m.name for m in models if bf16(settings, m)]
    if low:  # other stems than fp32's (by far less than the models' error): their own entry
        params["bf16"] = low
    key = cache_key(song_sha256, params)
    cache = StemsCache(settings)
    hit = cache.get(key)
    if hit is not None:
        progress("separate", 1.0, msg("separate_cached"))
        return Stems(hit, cached=True)
    check_assets(settings, options)
    build = cache.new_entry_dir()
    try:
        n = len(models)
        files: dict[str, str] = {}

        def stage(i: int) -> ProgressFn:
            return lambda s, f, m="", **kw: progress("separate", (i + f) / n, m, **kw)

        voice = song_wav
        for i, model in enumerate(models):
            cancel.check()
            target, residual, keep_residual = _STAGE_STEMS[model.role]
            stream = engine.separate_stream(
                outside(lambda model=model: _runner(settings, model), cancel),  # seconds of loading
                voice,
                build / f"{target}.wav",
                build / f"{residual}.wav",
                segment_s=segment_s,
                progress=stage(i),
                cancel=cancel,
            )
            with contextlib.closing(stream):
                for start, target_block, residual_block in stream:
                    if on_block is not None and n == 1:
                        on_block(start, {target: target_block, residual: residual_block})
            files[target] = f"{target}.wav"
            if keep_residual:
                files[residual] = f"{residual}.wav"
            else:
                (build / f"{residual}.wav").unlink()
            voice = build / f"{target}.wav"  # the next stage works on this stage's voice
        cancel.check()
        stems = cache.put(key, build, files, info={"models": params["models"], "sr": sr})
    except BaseException:
        cache.discard(build)
        raise
    return Stems(stems, cached=False)
