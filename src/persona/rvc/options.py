"""Voice-conversion options: one dataclass with RVC's knobs and their defaults, validated once.

Names and ranges follow RVC's inference UI (``infer-web``): pitch in semitones, ``index_rate``,
``filter_radius`` 0..7, ``rms_mix_rate``, ``protect`` 0..0.5 (0.5 turns it off), ``resample_sr``
0 (keep the model's rate) or a rate >= 16000. ``F0_METHODS`` is the one list of pitch methods
(``persona.rvc.f0`` and training import it); ``CONVERSION_PARAMS`` describes the knobs a client
sets (range, default) for the server's forms and documents. ``f0_unvoiced`` is Persona's: how unvoiced
(0 Hz) f0 frames reach the synthesizer, ``auto`` (the model's own convention, see ``persona.rvc.record``),
``zero`` (kept at 0 Hz, classic RVC and Applio) or ``interpolate`` (filled, RVC 2026). Persona adds
Applio's controls: ``autotune`` (strength) with ``autotune_key``, ``formant`` (semitones) and
``embedder`` (the content encoder, ``auto`` = the model's), and the ``swiftf0`` and ``hybrid[a+b]``
pitch methods. Light: no torch import, so the server can validate.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from persona.errors import PersonaError
from persona.params import Choice, Flag, Number, Param, default_of
from persona.rvc.embedders import NAMES as EMBEDDER_NAMES

F0_METHODS: tuple[str, ...] = ("rmvpe", "crepe", "fcpe", "harvest", "pm", "swiftf0")
PITCH_RANGE = (-24.0, 24.0)
# How a model's f0 treats unvoiced frames; "auto" = what the model itself was trained with.
F0_UNVOICED_MODES = ("zero", "interpolate")
F0_UNVOICED_CHOICES = ("auto", *F0_UNVOICED_MODES)
FORMANT_RANGE = (-12.0, 12.0)
RESAMPLE_RANGE = (16000, 192000)  # resample_sr: 0 keeps the model's rate (not a client knob)
# The numeric knobs ``validate`` checks against their CONVERSION_PARAMS range (option_invalid).
_RANGED = ("autotune", "formant", "index_rate", "rms_mix_rate", "protect", "filter_radius")
HYBRID_PATTERN = r"hybrid\[[a-z0-9]+(\+[a-z0-9]+){1,3}\]"


@dataclasses.dataclass
class ConversionOptions:
    pitch: float = 0.0  # semitones
    f0_method: str = "rmvpe"
    index_rate: float = 0.75
    filter_radius: int = 3
    rms_mix_rate: float = 0.25
    protect: float = 0.33
    resample_sr: int = 0
    speaker_id: int = 0
    f0_unvoiced: str = "auto"
    autotune: float = 0.0  # strength 0..1 towards the key's notes (0 = off)
    autotune_key: str = "chromatic"
    formant: float = 0.0  # semitones of timbre shift, pitch kept (0 = off)
    embedder: str = "auto"  # content encoder: "auto" = the model's own
    f0_octave_fix: bool = False  # double high notes the pitch tracker halved (f0/octave.py)

    def validate(self) -> ConversionOptions:
        """Raise PersonaError naming the first bad option; returns self for chaining. Ranges and
        choices are ``CONVERSION_PARAMS``'s (what the server's forms and documents offer)."""
        pitch = CONVERSION_PARAMS["pitch"]
        if not pitch.holds(self.pitch):
            raise PersonaError(
                "pitch_out_of_range", f"pitch must be {pitch.range_text()} semitones, got {self.pitch}"
            )
        from persona.rvc.f0 import hybrid

        if self.f0_method not in F0_METHODS and hybrid.parse(self.f0_method, F0_METHODS) is None:
            raise PersonaError(
                "f0_method_invalid",
                f"unknown f0 method {self.f0_method!r}; choose one of {', '.join(F0_METHODS)} "
                "or a hybrid[a+b]",
            )
        for name in _RANGED:
            spec, value = CONVERSION_PARAMS[name], getattr(self, name)
            if not spec.holds(value):
                raise PersonaError("option_invalid", f"{name} must be {spec.range_text()}, got {value}")
        from persona.rvc.f0.autotune import scale_pitch_classes

        scale_pitch_classes(self.autotune_key)
        if str(self.embedder).strip().lower() not in ("", "auto"):
            from persona.rvc import embedders

            if embedders.normalize(self.embedder) == embedders.CUSTOM:
                raise PersonaError(
                    "embedder_unknown", "a custom content encoder is given as a folder, not by name"
                )
        if not _is_int(self.resample_sr) or not (
            int(self.resample_sr) == 0 or RESAMPLE_RANGE[0] <= int(self.resample_sr) <= RESAMPLE_RANGE[1]
        ):
            raise PersonaError(
                "option_invalid",
                f"resample_sr must be 0 (model rate) or {RESAMPLE_RANGE[0]}..{RESAMPLE_RANGE[1]} Hz, "
                f"got {self.resample_sr}",
            )
        if not _is_int(self.speaker_id) or int(self.speaker_id) < 0:
            raise PersonaError("option_invalid", f"speaker_id must be >= 0, got {self.speaker_id}")
        unvoiced = CONVERSION_PARAMS["f0_unvoiced"].choices
        if self.f0_unvoiced not in unvoiced:
            raise PersonaError(
                "option_invalid",
                f"f0_unvoiced must be one of {', '.join(unvoiced)}, got {self.f0_unvoiced!r}",
            )
        return self

    def unvoiced_mode(self, model_mode: str) -> str:
        """The convention this conversion uses: the override, else the model's own."""
        return model_mode if self.f0_unvoiced == "auto" else self.f0_unvoiced

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ConversionOptions:
        """Build from a mapping (HTTP form, job record); unknown keys are refused."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise PersonaError("option_invalid", f"unknown conversion option(s): {', '.join(unknown)}")
        kinds = {f.name: f.type for f in dataclasses.fields(cls)}
        out: dict[str, Any] = {}
        for key, value in values.items():
            if value is None:
                continue
            try:
                out[key] = {"float": float, "int": int, "str": str, "bool": _as_bool}[str(kinds[key])](value)
            except (TypeError, ValueError) as exc:
                raise PersonaError("option_invalid", f"{key} has a bad value: {value!r}") from exc
        return cls(**out)


def _conversion_params() -> dict[str, Param]:
    # Imported here: persona.rvc.f0 imports F0_METHODS from this module (defined above by now).
    from persona.rvc.f0.autotune import KEY_NAMES

    def d(name: str) -> Any:
        return default_of(ConversionOptions, name)

    return {
        "pitch": Number(float, *PITCH_RANGE, d("pitch")),
        "f0_method": Choice(F0_METHODS, d("f0_method"), pattern=HYBRID_PATTERN),
        "index_rate": Number(float, 0.0, 1.0, d("index_rate")),
        "filter_radius": Number(int, 0, 7, d("filter_radius")),
        "rms_mix_rate": Number(float, 0.0, 1.0, d("rms_mix_rate")),
        "protect": Number(float, 0.0, 0.5, d("protect")),
        "f0_unvoiced": Choice(F0_UNVOICED_CHOICES, d("f0_unvoiced")),
        "autotune": Number(float, 0.0, 1.0, d("autotune")),
        "autotune_key": Choice(tuple(k.lower() for k in KEY_NAMES), d("autotune_key")),
        "formant": Number(float, *FORMANT_RANGE, d("formant")),
        "embedder": Choice(("auto", *EMBEDDER_NAMES), d("embedder")),
        "f0_octave_fix": Flag(d("f0_octave_fix")),
    }


# The knobs a client sets, with the ranges ``validate`` enforces and the dataclass's defaults.
CONVERSION_PARAMS: dict[str, Param] = _conversion_params()


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(value)


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _is_int(value: Any) -> bool:
    return _finite(value) and float(value) == int(float(value))
