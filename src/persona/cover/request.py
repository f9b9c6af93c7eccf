"""What a cover is asked for (``CoverRequest``) and what it gives back (``CoverResult``).

``COVER_PARAMS`` lists the options a client may set (API names, ranges, choices, defaults; the
server's form, OpenAPI schema and ``/api/health`` ``options`` come from it);
``CoverRequest.from_params`` turns a cover job's params into a request. Light: no torch, so the
server can validate a request before queueing it.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any

from persona.audio.encode import FORMATS, SUFFIX_FORMAT  # the one list of output formats
from persona.errors import PersonaError
from persona.params import Choice, Flag, Number, Param, default_of
from persona.rvc.options import CONVERSION_PARAMS, ConversionOptions
from persona.separation.models import AUTO, MODELS, get_model

KEY_MODES = ("vocals", "song")  # "vocals": only the voice moves; "song": the instrumental follows
BACKING_MODES = ("original", "converted", "off")
MIN_SONG_S = 1.0  # shorter is refused at upload and again when decoded
GAIN_LIMIT_DB = 24.0  # what the request accepts; the API offers -24..+12 dB (more only clips)
# The stages a cover reports, in order, with their share of the progress bar (``jobs.kinds``).
STAGES = (("decode", 0.04), ("separate", 0.5), ("convert", 0.38), ("mix", 0.04), ("encode", 0.04))
SEPARATION_MODELS = (AUTO, *(m.name for m in MODELS.values() if m.role == "vocals"))


@dataclasses.dataclass
class CoverRequest:
    song: Path  # any audio file Persona decodes
    model: str  # a model name in the library, or a path to an RVC .pth
    output: Path | None = None  # default: <covers_dir>/<song stem> (<model>).<format>
    index: Path | None = None  # explicit .index (else the library's; none = retrieval off)
    conversion: ConversionOptions = dataclasses.field(default_factory=ConversionOptions)
    pitch_auto: bool = False  # use the suggested shift instead of conversion.pitch
    separation_model: str = AUTO  # auto: BS-RoFormer on a GPU, htdemucs on a CPU
    lead_backing: bool = False  # split lead / backing vocals; only the lead is converted...
    backing: str = "original"  # ...and the backing is mixed back original, converted, or off
    dereverb: bool = False  # de-reverb the vocal before conversion
    vocal_gain_db: float = 0.0
    instrumental_gain_db: float = 0.0
    backing_gain_db: float = 0.0
    reverb: float = 0.0  # 0..1 reverb on the converted vocal
    compress: bool = True  # light compression on the converted vocal
    key_mode: str = "vocals"
    format: str = "wav"
    target_lufs: float = -14.0

    def validate(self) -> CoverRequest:
        self.song = Path(self.song)
        if isinstance(self.model, os.PathLike):
            self.model = os.fspath(self.model)
        elif hasattr(self.model, "pth_path"):  # a library ModelEntry: use its name
            self.model = str(self.model.name)
        if not isinstance(self.model, str) or not self.model.strip():
            raise PersonaError("model_invalid", "a cover needs a model name or a path to a .pth")
        self.conversion.validate()
        if self.separation_model != AUTO:
            get_model(self.separation_model, "vocals")
        if self.key_mode not in KEY_MODES:
            raise PersonaError("option_invalid", f"key_mode must be one of {', '.join(KEY_MODES)}")
        if self.backing not in BACKING_MODES:
            raise PersonaError("option_invalid", f"backing must be one of {', '.join(BACKING_MODES)}")
        self.format = str(self.format).lower()
        if self.format not in FORMATS:
            raise PersonaError("format_invalid", f"format must be one of {', '.join(FORMATS)}")
        for name in ("vocal_gain_db", "instrumental_gain_db", "backing_gain_db"):
            value = getattr(self, name)
            if not _finite(value) or abs(float(value)) > GAIN_LIMIT_DB:
                raise PersonaError(
                    "option_invalid", f"{name} must be within +-{GAIN_LIMIT_DB:g} dB, got {value}"
                )
        reverb = COVER_PARAMS["reverb"]
        if not reverb.holds(self.reverb):
            raise PersonaError("option_invalid", f"reverb must be {reverb.range_text()}, got {self.reverb}")
        if not _finite(self.target_lufs) or not -40.0 <= float(self.target_lufs) <= -5.0:
            raise PersonaError(
                "option_invalid", f"target_lufs must be within -40..-5, got {self.target_lufs}"
            )
        if self.output is not None:
            self.output = Path(self.output)
            suffix = self.output.suffix.lower()
            if suffix not in SUFFIX_FORMAT:
                raise PersonaError(
                    "format_invalid", f"output must end in {', '.join(SUFFIX_FORMAT)}: {self.output.name}"
                )
            self.format = SUFFIX_FORMAT[suffix]
        return self

    @classmethod
    def from_params(cls, params: dict[str, Any], song: Path, output: Path | None = None) -> CoverRequest:
        """A cover job's params (``model``, ``pitch``, ``options`` keyed as ``COVER_PARAMS``) as a
        request; unset options keep their defaults. Not yet validated (``validate``)."""
        options = params.get("options", {})
        conversion = {k: options[k] for k in CONVERSION_PARAMS if k != "pitch" and k in options}
        kwargs: dict[str, Any] = {
            "song": song,
            "model": params["model"],
            "conversion": ConversionOptions(pitch=float(params.get("pitch", 0)), **conversion),
        }
        for key, spec in COVER_PARAMS.items():
            if key not in CONVERSION_PARAMS and key in options:
                kwargs[spec.field or key] = options[key]
        if output is not None:
            kwargs["output"] = output
            kwargs["format"] = output.suffix.lstrip(".")
        return cls(**kwargs)


def _cover_params() -> dict[str, Param]:
    def d(name: str) -> Any:
        return default_of(CoverRequest, name)

    return {
        **CONVERSION_PARAMS,
        "vocal_gain": Number(float, -GAIN_LIMIT_DB, 12.0, d("vocal_gain_db"), field="vocal_gain_db"),
        "instrumental_gain": Number(
            float, -GAIN_LIMIT_DB, 12.0, d("instrumental_gain_db"), field="instrumental_gain_db"
        ),
        "reverb": Number(float, 0.0, 1.0, d("reverb")),
        "format": Choice(FORMATS, d("format")),
        "backing": Choice(BACKING_MODES, d("backing")),
        "key_mode": Choice(KEY_MODES, d("key_mode")),
        "separation_model": Choice(SEPARATION_MODELS, d("separation_model")),
        "pitch_auto": Flag(d("pitch_auto")),
        "lead_backing": Flag(d("lead_backing")),
        "dereverb": Flag(d("dereverb")),
    }


# The options a cover job takes from a client (API names; ``field`` where the request's differs).
COVER_PARAMS: dict[str, Param] = _cover_params()


def _finite(v: Any) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


@dataclasses.dataclass(frozen=True)
class CoverResult:
    path: Path  # the finished cover
    duration_s: float
    sample_rate: int
    format: str
    pitch: float  # the shift used, in semitones
    suggested_pitch: int | None  # from the song's and the model's ranges (None: unknown)
    stages: dict[str, float]  # wall seconds per stage: decode, separate, convert, mix, encode
    stems_cached: bool  # separation was skipped (stems cache hit)
    loudness_lufs: float
    true_peak_db: float
    index_used: bool
    # Similarity + F0 fidelity of the converted lead vocal (persona.quality; None when not scored).
    quality: dict[str, Any] | None = None
    # What the file carries (persona.provenance): {"watermark", "c2pa", "tags"} booleans.
    provenance: dict[str, bool] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["path"] = str(self.path)
        return d
