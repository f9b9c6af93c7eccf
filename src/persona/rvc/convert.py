"""Voice conversion as others call it: a model reference + audio (or a file) in, converted vocal out.

Takes ``model_ref`` (a library ``ModelEntry``, or a path to a ``.pth`` with an optional
``.index``; a library *name* is looked up by the caller), loads the voice model, the content encoder, the f0 estimator and
the index once and keeps them for later calls (a small cache keyed by file identity and device),
then runs ``persona.rvc.pipeline.Pipeline``. Mirrors RVC's ``infer/vc/modules.py`` ``vc_single``:
input decoded to 16 kHz mono; as RVC, ``index_rate == 0`` skips the index entirely.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from persona import provenance
from persona.audio.encode import SUFFIX_FORMAT
from persona.errors import PersonaError
from persona.interrupt import outside
from persona.messages import msg
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress
from persona.rvc.options import ConversionOptions
from persona.settings import Settings

log = logging.getLogger(__name__)

OUTPUT_SUFFIXES = tuple(SUFFIX_FORMAT)  # every download format (.wav .mp3 .flac .ogg .opus .m4a .aac)
ModelRef = Any  # str | os.PathLike (a .pth path) | persona.library.ModelEntry | ResolvedModel


@dataclasses.dataclass(frozen=True)
class ResolvedModel:
    name: str
    pth_path: Path
    index_path: Path | None


def resolve_model(model_ref: ModelRef, index: str | os.PathLike[str] | None = None) -> ResolvedModel:
    """The ``.pth`` (and ``.index``) of a ``ModelEntry``/``ResolvedModel`` or of a ``.pth`` path.

    Names are not looked up here: the CLI and the cover pipeline turn a library name into its
    entry (``persona.library.resolve_model_ref``). An explicit ``index`` wins over the entry's.
    Raises ``model_not_found`` / ``index_missing``.
    """
    index_path = Path(index) if index else None
    if index_path is not None and not index_path.is_file():
        raise PersonaError("index_missing", f"index file not found: {index_path}", status=404)
    if hasattr(model_ref, "pth_path"):  # a ModelEntry or a ResolvedModel
        return ResolvedModel(
            str(model_ref.name), Path(model_ref.pth_path), index_path or _opt_path(model_ref.index_path)
        )
    path = Path(os.fspath(model_ref)).expanduser()
    if not path.is_file():
        raise PersonaError("model_not_found", f"model file not found: {path}", status=404)
    return ResolvedModel(path.stem, path, index_path)


def _opt_path(p: Any) -> Path | None:
    return Path(p) if p else None


# -- loaded things, kept across calls ---------------------------------------------------------

_LOCK = threading.RLock()
_VOICES: collections.OrderedDict[tuple, Any] = collections.OrderedDict()
_INDEXES: collections.OrderedDict[tuple, Any] = collections.OrderedDict()
_SHARED: dict[tuple, Any] = {}
_MAX_VOICES = 2
_MAX_INDEXES = 2


def _file_key(path: Path) -> tuple:
    st = path.stat()
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def _lru_get(cache: collections.OrderedDict, key: tuple, make, limit: int):
    with _LOCK:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    value = make()
    with _LOCK:
        cache[key] = value
        while len(cache) > limit:
            cache.popitem(last=False)
    return value


def clear_cache() -> None:
    """Forget every loaded model (tests; freeing memory)."""
    with _LOCK:
        _VOICES.clear()
        _INDEXES.clear()
        _SHARED.clear()


def _device(settings: Settings) -> tuple[str, bool]:
    device = settings.resolved_device()
    return device, device.startswith("cuda")


def _load_voice(path: Path, device: str, is_half: bool) -> Any:
    from persona.rvc.voice_model import load_voice_model

    if is_half:  # RVC runs the synthesizer in fp16 on CUDA
        import torch

        return load_voice_model(path, device=device, dtype=torch.float16)
    return load_voice_model(path, device=device)


def _content_encoder(
    settings: Settings, device: str, embedder: str = "contentvec", folder: Path | None = None
) -> Any:
    key = ("content", str(settings.assets), device, embedder, str(folder))
    with _LOCK:
        if key in _SHARED:
            return _SHARED[key]
    from persona.assets import AssetManager
    from persona.rvc.content import ContentEncoder

    if folder is not None:
        enc = ContentEncoder.from_path(folder, device=device)
    else:
        enc = ContentEncoder.load(AssetManager(settings), device=device, embedder=embedder)
    with _LOCK:
        _SHARED[key] = enc
    return enc


def _f0_function(settings: Settings, device: str):
    from persona.assets import AssetManager
    from persona.rvc.f0 import compute_f0

    return functools.partial(compute_f0, assets=AssetManager(settings), device=device)


def _record(voice: Any) -> dict[str, Any] | None:
    record = getattr(voice, "record", None)
    return record.to_dict() if record is not None else None


def build_pipeline(
    settings: Settings,
    model: ResolvedModel,
    options: ConversionOptions,
    *,
    embedder_folder: Path | None = None,
):
    """A Pipeline for this model on the settings' device, reusing what earlier calls loaded.

    The content encoder is the model's own (``persona.rvc.embedders``) unless ``options.embedder``
    names another or ``embedder_folder`` gives a custom transformers folder.
    """
    from persona.runtime import tune_allocator
    from persona.rvc import embedders
    from persona.rvc.index import load_index
    from persona.rvc.pipeline import Pipeline

    tune_allocator()  # large activations stay on the heap: no page faults per op (see runtime)
    device, is_half = _device(settings)
    voice = _lru_get(
        _VOICES,
        (*_file_key(model.pth_path), device),
        lambda: _load_voice(model.pth_path, device, is_half),
        _MAX_VOICES,
    )
    index = None
    if model.index_path is not None and options.index_rate != 0:
        index = _lru_get(
            _INDEXES, _file_key(model.index_path), lambda: load_index(model.index_path), _MAX_INDEXES
        )
        index.check_dim(voice.version)
    embedder = embedders.choose(embedders.of_model(voice.metadata, _record(voice)), options.embedder)
    content = _content_encoder(settings, device, embedder, embedder_folder)
    f0_fn = _f0_function(settings, device) if voice.f0 else None
    return Pipeline(voice, content, f0_fn, index=index, device=device, is_half=is_half)


# -- the public calls ---------------------------------------------------------------------------


def convert_audio(
    settings: Settings,
    model_ref: ModelRef,
    audio: np.ndarray,
    sr: int,
    options: ConversionOptions | None = None,
    progress: ProgressFn = null_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    *,
    index: str | os.PathLike[str] | None = None,
    embedder_folder: str | os.PathLike[str] | None = None,
) -> tuple[np.ndarray, int]:
    """Convert a mono vocal (any rate) into the model's voice; returns (float32 audio, rate).

    The rate is the model's (32/40/48 kHz) or ``options.resample_sr`` when set.
    """
    options = (options or ConversionOptions()).validate()
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 2:  # (channels, n): RVC converts mono
        audio = audio.mean(axis=0)
    if audio.ndim != 1 or audio.size == 0:
        raise PersonaError("audio_empty", "no audio to convert")
    model = resolve_model(model_ref, index)
    progress("convert", 0.0, msg("convert_loading"))
    folder = Path(embedder_folder) if embedder_folder is not None else None
    # The models load in seconds, in calls nothing stops: a Stop does not wait for them.
    pipe = outside(lambda: build_pipeline(settings, model, options, embedder_folder=folder), cancel)
    if int(sr) != 16000:
        from persona.audio.resample import resample

        audio = resample(audio, int(sr), 16000)
    return pipe.convert(audio, options, progress, cancel)


def convert_file(
    settings: Settings,
    model_ref: ModelRef,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    options: ConversionOptions | None = None,
    progress: ProgressFn = null_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    *,
    index: str | os.PathLike[str] | None = None,
    embedder_folder: str | os.PathLike[str] | None = None,
) -> Path:
    """Convert an audio file and write the result (any ``SUFFIX_FORMAT`` by extension) atomically."""
    from persona.audio.io import ensure_not_silent, load_audio, save_audio

    options = (options or ConversionOptions()).validate()
    output_path = Path(output_path)
    if output_path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise PersonaError(
            "format_invalid", f"output must end in {', '.join(OUTPUT_SUFFIXES)}: {output_path.name}"
        )
    model = resolve_model(model_ref, index)  # fail before decoding on a bad model
    provenance.check_ready(settings)  # and on a broken signing key
    audio, _ = load_audio(input_path, sr=16000, mono=True, max_seconds=settings.max_input_seconds)
    ensure_not_silent(audio, Path(input_path).name)
    out, out_sr = convert_audio(
        settings, model, audio, 16000, options, progress, cancel, embedder_folder=embedder_folder
    )
    cancel.check()
    out = provenance.mark_audio(out, out_sr, settings)
    seal = provenance.sealer(settings, model, "converted_vocal", title=output_path.stem)
    saved = save_audio(output_path, out, out_sr, seal=seal)
    from persona.runtime import release_memory

    release_memory()
    return saved
