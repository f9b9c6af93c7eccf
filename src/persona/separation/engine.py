"""Run one separation model over an audio file, segment by segment, in bounded memory.

Owns the seam to pymss: ``load_separator`` builds ``pymss.MSSeparator`` from a weights file and
its YAML config (the library's own formats; tests use tiny random-weight models written by
``persona.testing.separation``). pymss already cuts its input into model-sized chunks with
overlap-add (BS-RoFormer 8 s chunks, HTDemucs 7.8 s segments); on top of that this module
streams the song from disk in segments of about ``SEGMENT_S`` seconds with ``OVERLAP_S`` seconds
of linear crossfade, so a 20-minute song never sits in the model's buffers at once, and the cancel
token is checked inside pymss's per-chunk progress callback and inside every layer of the model
(``persona.interrupt``). A segment is a whole number of the
model's chunk steps (``segment_frames``): pymss pads a segment's last chunk with zeros, so a
segment of k steps costs k model chunks with none half-wasted. ``separate_stream`` yields each
finished span as soon as it is written, so a cover can convert and play the song's beginning
while the rest is still being separated.

Output: the model's target stem and the residual (input - target), both float WAV at the input's
rate and channel count. input == target + residual holds to float rounding, as in pymss itself
(which derives the secondary stem the same way). Songs at 48 kHz are resampled to the model's
44.1 kHz per segment (soxr HQ) and back; the crossfade hides the resampler's edges.

Precision: pymss runs fp16 AMP on a GPU and fp32 on a CPU; ``load_separator(..., bf16=True)``
runs the CPU model under ``torch.autocast("cpu", torch.bfloat16)`` instead (on CPUs with bf16
instructions, where it measured faster within the quality bar: ``persona.precision``). The
stems stay float32 either way; input - target = residual still holds exactly.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from persona.audio.resample import resample
from persona.errors import PersonaError
from persona.fsutil import atomic_path
from persona.interrupt import interruptible
from persona.messages import msg
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress
from persona.separation.models import SeparationModel

log = logging.getLogger(__name__)

SEGMENT_S = 28.0  # about: rounded to whole model chunk steps (``segment_frames``; HTDemucs 29.25 s)
OVERLAP_S = 2.0


def _quiet_logger() -> logging.Logger:
    # pymss resets its logger's level to INFO and warns about things that do not concern us
    # (no ffmpeg binary: we never let it decode; CPU mode): keep only its errors.
    logger = logging.getLogger("persona.separation.pymss")
    if not logger.filters:
        logger.addFilter(lambda record: record.levelno >= logging.ERROR)
    return logger


class ModelRunner:
    """A loaded separation model: ``run(audio (channels, n) at self.sr) -> target (channels, n)``."""

    def __init__(self, model: SeparationModel, separator: Any, *, bf16: bool = False) -> None:
        self.model = model
        self.separator = separator
        self.bf16 = bf16  # CPU bf16 autocast around the model (persona.precision decides)
        cfg = separator.config
        self.sr = int(cfg.audio.get("sample_rate", 0) or cfg.training.get("samplerate", 44100))
        instruments = [str(i) for i in cfg.training.instruments]
        lower = {i.lower(): i for i in instruments}
        if model.target.lower() not in lower:
            raise PersonaError(
                "model_invalid",
                f"separation model {model.name}: its config has stems {instruments}, not {model.target!r}",
            )
        self.stem = lower[model.target.lower()]
        self.step_s = 0.0  # the model's chunk step in seconds (set by ``load_separator``)

    def run(self, audio: np.ndarray, on_chunk: Callable[[float], None] | None = None) -> np.ndarray:
        def callback(done: float, total: float, message: str = "") -> None:
            if on_chunk is not None:
                on_chunk(float(done) / float(total or 1))

        self.separator.progress_callback = callback
        with _autocast(self.bf16):
            out = self.separator.separate(
                np.ascontiguousarray(audio, dtype=np.float32), pbar=False, stems=[self.stem]
            )
        target = np.asarray(out[self.stem], dtype=np.float32)
        target = target.T if target.shape[0] != audio.shape[0] else target  # pymss: (samples, channels)
        if target.shape[-1] != audio.shape[-1]:
            fixed = np.zeros_like(audio, dtype=np.float32)
            n = min(target.shape[-1], audio.shape[-1])
            fixed[:, :n] = target[:, :n]
            target = fixed
        return target

    def close(self) -> None:
        try:
            self.separator.close()
        except Exception:  # releasing caches must never hide the real outcome
            log.debug("separator close failed", exc_info=True)


def _autocast(bf16: bool) -> contextlib.AbstractContextManager:
    if not bf16:
        return contextlib.nullcontext()
    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16)


# demucs checkpoints (``{"klass", "args", "kwargs", "state", ...}``) name their model class and
# config types, so pymss loads them with ``weights_only=False``. Before that, we list the
# checkpoint's globals WITHOUT unpickling it and refuse anything outside these inert ones.
_PICKLE_SAFE_PREFIXES = ("demucs.", "omegaconf.", "fractions.Fraction", "collections.", "pathlib.")
_PICKLE_SAFE_NAMES = {
    "numpy.dtype",
    "numpy.ndarray",
    "numpy.core.multiarray._reconstruct",
    "numpy._core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar",
    "builtins.set",
    "builtins.frozenset",
    "builtins.slice",
    "typing.Any",
}


def check_pickle_globals(weights: Path) -> None:
    """Refuse a checkpoint whose pickle references anything but inert model/config types."""
    import torch

    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(str(weights))
    except Exception as exc:  # truncated, not a torch file, ...
        raise PersonaError("model_invalid", f"{weights.name} is not a readable checkpoint: {exc}") from exc
    bad = [g for g in found if g not in _PICKLE_SAFE_NAMES and not g.startswith(_PICKLE_SAFE_PREFIXES)]
    if bad:
        raise PersonaError(
            "model_invalid",
            f"{weights.name} carries code references ({', '.join(sorted(bad)[:3])}); refusing to load it",
        )


def load_separator(
    model: SeparationModel, weights: Path, config: Path, device: str = "cpu", *, bf16: bool = False
) -> ModelRunner:
    """Build the pymss separator for ``model`` from its files (PersonaError ``model_invalid``).

    ``bf16``: run it under CPU bf16 autocast (ignored on a GPU, where pymss uses fp16 AMP).
    """
    from pymss import MSSeparator  # heavy import, deferred

    from persona.runtime import tune_allocator

    tune_allocator()  # the model's chunk activations stay on the heap (see persona.runtime)
    if model.arch == "htdemucs":
        check_pickle_globals(weights)  # pymss unpickles these with weights_only=False

    dev, ids = device, [0]
    if device.startswith("cuda:"):
        dev, ids = "cuda", [int(device.split(":", 1)[1])]
    params = {"standardize": None, "normalize": False, **model.inference}
    try:
        separator = MSSeparator(
            model_type=model.arch,
            model_path=str(weights),
            config_path=str(config),
            device=dev,
            device_ids=ids,
            store_dirs={},
            logger=_quiet_logger(),
            inference_params=params,
        )
    except PersonaError:
        raise
    except Exception as exc:  # a corrupt or mismatched file: tell the user which one
        raise PersonaError(
            "model_invalid",
            f"cannot load separation model {model.name} from {weights.name} + {config.name}: {exc}",
        ) from exc
    cfg = separator.config
    if model.arch == "htdemucs":
        chunk = int(cfg.training.samplerate * cfg.training.segment)
    else:
        chunk = int(cfg.audio.chunk_size)
    cfg.inference["overlap_size"] = int(chunk * model.overlap)
    runner = ModelRunner(model, separator, bf16=bf16 and dev == "cpu")
    if runner.bf16:
        log.info("separation model %s runs in bf16 on the CPU (PERSONA_BF16=off: fp32)", model.name)
    runner.step_s = (chunk - int(chunk * model.overlap)) / runner.sr
    return runner


def segment_frames(runner: ModelRunner, sr: int, segment_s: float) -> int:
    """About ``segment_s`` seconds at ``sr``, as a whole number (>= 1) of the model's chunk steps."""
    if runner.step_s <= 0:
        return max(int(segment_s * sr), 1)
    steps = max(1, round(segment_s / runner.step_s))
    return max(int(steps * runner.step_s * sr), 1)


def separate_stream(
    runner: ModelRunner,
    input_path: Path,
    target_path: Path,
    residual_path: Path,
    *,
    segment_s: float = SEGMENT_S,
    overlap_s: float = OVERLAP_S,
    progress: ProgressFn = null_progress,
    cancel: CancelToken = NEVER_CANCELLED,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Write ``runner``'s target stem of ``input_path`` and the residual, atomically, yielding
    ``(start, target, residual)`` for each finished span in order.

    A span is final when yielded (the next segment only crossfades what comes after it). The
    files appear when the generator runs to its end; closing it early leaves none behind.
    """
    with sf.SoundFile(str(input_path)) as src:
        sr, channels, frames = src.samplerate, src.channels, src.frames
        seg = segment_frames(runner, sr, segment_s)
        ov = min(int(overlap_s * sr), seg // 4)
        hop = seg - ov
        fade_in = np.linspace(0.0, 1.0, ov, dtype=np.float32) if ov else np.zeros(0, np.float32)
        with (
            atomic_path(target_path) as t_tmp,
            atomic_path(residual_path) as r_tmp,
            sf.SoundFile(str(t_tmp), "w", sr, channels, format="WAV", subtype="FLOAT") as t_out,
            sf.SoundFile(str(r_tmp), "w", sr, channels, format="WAV", subtype="FLOAT") as r_out,
        ):
            tail: np.ndarray | None = None  # previous segment's last `ov` target samples
            start = 0
            while start < frames:
                cancel.check()
                src.seek(start)
                x = src.read(min(seg, frames - start), dtype="float32", always_2d=True).T
                n = x.shape[1]
                is_last = start + n >= frames
                base = start / frames
                width = n / frames

                def on_chunk(f: float, base: float = base, width: float = width) -> None:
                    cancel.check()
                    progress("separate", min(base + width * f, 1.0), msg("separate_vocals"))

                with interruptible(cancel):  # a Stop ends the model inside a layer, not after its chunk
                    y = _run_at_model_rate(runner, x, sr, on_chunk)
                if tail is not None and ov:
                    k = min(ov, n)
                    y[:, :k] = tail[:, :k] * (1.0 - fade_in[:k]) + y[:, :k] * fade_in[:k]
                emit_end = n if is_last else n - ov
                target, residual = y[:, :emit_end], x[:, :emit_end] - y[:, :emit_end]
                t_out.write(target.T)
                r_out.write(residual.T)
                tail = y[:, emit_end:]
                yield start, target, residual
                if is_last:
                    break
                start += hop
            progress("separate", 1.0, msg("separate_vocals"))


def _run_at_model_rate(
    runner: ModelRunner, x: np.ndarray, sr: int, on_chunk: Callable[[float], None]
) -> np.ndarray:
    if sr == runner.sr:
        return runner.run(x, on_chunk)
    y = runner.run(resample(x, sr, runner.sr), on_chunk)
    y = resample(y, runner.sr, sr)
    if y.shape[1] != x.shape[1]:  # resample keeps ceil lengths; pin to the input
        y = (
            y[:, : x.shape[1]]
            if y.shape[1] > x.shape[1]
            else np.pad(y, ((0, 0), (0, x.shape[1] - y.shape[1])))
        )
    return y.astype(np.float32, copy=False)
