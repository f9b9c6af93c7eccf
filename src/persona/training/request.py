"""What a training is asked for (``TrainRequest``, its limits) and what it gives back (``TrainResult``).

``TRAIN_PARAMS`` lists the parameters a client may set (ranges, choices, defaults; the server's
form, OpenAPI schema and ``/api/health`` ``options`` and the CLI's defaults come from it);
``TrainRequest.from_params`` turns a training job's params into a request. Light: no torch, so
the server can check a training before queueing it.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from persona.errors import PersonaError
from persona.params import Choice, Number, Param, default_of
from persona.rvc.formats import SR2SR
from persona.rvc.options import F0_METHODS, F0_UNVOICED_MODES

MAX_EPOCHS = 1000
EXPORT_CHOICES = ("best", "last")  # which save a training exports (persona.training.saves)
MAX_BATCH = 64
MIN_RECORDING_S = 1.0  # a shorter recording holds no phrase to learn from: refused at upload
# The stages a training reports, in order, with their share of the progress bar (``jobs.kinds``).
STAGES = (("preprocess", 3), ("features", 12), ("train", 75), ("export", 10))


@dataclasses.dataclass
class TrainRequest:
    name: str
    files: list[str | os.PathLike[str]] = dataclasses.field(default_factory=list)
    epochs: int = 100
    batch_size: int = 4
    sample_rate: str = "40k"
    f0_method: str = "rmvpe"
    f0_unvoiced: str = "zero"  # classic RVC / Applio; "interpolate" trains the RVC-2026 way
    save_every: int = 5
    resume: bool = False
    # Beyond the contract: tests and tools.
    model_size: str = "full"  # "tiny" only for tests
    config_overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
    allow_scratch: bool = False  # train without the pretrained base (poor quality; warned loudly)
    pretrained: tuple[str | os.PathLike[str], str | os.PathLike[str]] | None = None  # (G, D) paths
    quality_report: bool = True
    min_voice_seconds: float = 10.0
    # Previews: hold 8-10 s out, convert and score it at every save; export the best save or the last.
    export: str = "best"
    previews: bool = True
    preview_metrics: tuple[str, ...] | None = None  # persona.quality names; None = all
    keep_saves: int = 3  # model files kept besides the best save's

    def validate(self) -> TrainRequest:
        """Normalise and check every field; raises PersonaError with a user-facing message."""
        from persona.names import validate_model_name

        self.name = validate_model_name(self.name)
        if isinstance(self.sample_rate, int) or str(self.sample_rate).isdigit():
            by_hz = {v: k for k, v in SR2SR.items()}
            self.sample_rate = by_hz.get(int(self.sample_rate), str(self.sample_rate))
        for name in ("epochs", "batch_size", "save_every"):
            _int_in(name, getattr(self, name))
        self.save_every = min(self.save_every, self.epochs)  # "every 10" of a 5-epoch run: save at the end
        if self.sample_rate not in SR2SR:
            raise PersonaError("bad_sample_rate", f"sample rate must be one of {', '.join(SR2SR)}")
        if self.f0_method not in F0_METHODS:
            raise PersonaError(
                "f0_method_invalid",
                f"unknown pitch method {self.f0_method!r}; choose one of {', '.join(F0_METHODS)}",
            )
        if self.f0_unvoiced not in F0_UNVOICED_MODES:
            raise PersonaError(
                "option_invalid",
                f"f0_unvoiced must be one of {', '.join(F0_UNVOICED_MODES)}, got {self.f0_unvoiced!r}",
            )
        if self.export not in EXPORT_CHOICES:
            raise PersonaError("bad_export", f"export must be one of {', '.join(EXPORT_CHOICES)}")
        if not self.resume and not self.files:
            raise PersonaError("no_files", "give at least one recording of your voice")
        return self

    @classmethod
    def from_params(
        cls, params: dict[str, Any], files: list[Path], *, resume: bool = False, **extra: Any
    ) -> TrainRequest:
        """A training job's params (``name`` + ``TRAIN_PARAMS`` keys; unset ones keep their
        defaults) as a request on ``files``; ``extra`` sets further fields (tests: model size)."""
        values: dict[str, Any] = {"name": params["name"], "files": files, "resume": resume}
        values.update({k: params[k] for k in TRAIN_PARAMS if params.get(k) is not None})
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(extra) - names)
        if unknown:
            raise TypeError(f"TrainRequest has no field(s) {', '.join(unknown)}")
        values.update({k: v for k, v in extra.items() if v is not None})
        return cls(**values)


def _int_in(what: str, value: object) -> None:
    """A whole number in ``TRAIN_PARAMS[what]``'s range (what the API and the CLI offer)."""
    spec = TRAIN_PARAMS[what]
    lo, hi = int(spec.min), int(spec.max)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise PersonaError(
            f"bad_{what}", f"{what.replace('_', ' ')} must be a whole number from {lo} to {hi}"
        )


def _train_params() -> dict[str, Param]:
    def d(name: str) -> Any:
        return default_of(TrainRequest, name)

    return {
        "epochs": Number(int, 1, MAX_EPOCHS, d("epochs")),
        "batch_size": Number(int, 1, MAX_BATCH, d("batch_size")),
        "save_every": Number(int, 1, MAX_EPOCHS, d("save_every")),
        "sample_rate": Choice(tuple(SR2SR), d("sample_rate")),
        "f0_method": Choice(F0_METHODS, d("f0_method")),
        "f0_unvoiced": Choice(F0_UNVOICED_MODES, d("f0_unvoiced")),
        "export": Choice(EXPORT_CHOICES, d("export")),
    }


# The parameters a training job takes from a client, with TrainRequest's limits and defaults.
TRAIN_PARAMS: dict[str, Param] = _train_params()


@dataclasses.dataclass
class TrainResult:
    model_name: str
    epochs_done: int
    epochs: int
    stopped: bool
    model_path: Path
    index_path: Path | None
    voice_profile: dict[str, float] | None
    quality: dict[str, Any]
    metrics: dict[str, Any]  # last epoch's mean losses, per-epoch history, timings
    warnings: list[str]
    saves: dict[str, Any] = dataclasses.field(default_factory=dict)  # saves.summary: per-save metrics, choice
    # What a library keeps with the model (voice profile and embedding, quality, how it trained).
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["model_path"], d["index_path"] = str(self.model_path), self.index_path and str(self.index_path)
        del d["metadata"]  # kept with the model in the library, not part of the report
        return d
