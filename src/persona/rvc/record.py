"""The ``persona`` record: what Persona writes into its exported ``.pth`` about how it trained it.

An exported RVC model is a dict (``weight``, ``config``, ``info``, ``sr``, ``f0``, ``version``);
RVC's ``get_vc`` and Applio read only the keys they know, so Persona adds one more top-level key::

    "persona": {"f0_unvoiced": "zero" | "interpolate", "embedder": "contentvec", "trainer": "persona 0.1.0"}

``f0_unvoiced`` is the f0 convention the model was trained with, which conversion must repeat:
``zero`` keeps 0 Hz in unvoiced frames (classic RVC 20240604 and Applio, in training and at
inference, where ``protect`` acts on exactly those frames); ``interpolate`` fills them linearly
between voiced neighbours (RVC 2026's ``extract_f0.py`` and ``get_f0``). A model without the record
(RVC, Applio, any community model) is taken as ``zero``.

Strictness (issue 9, "bad input"): a record is *Persona's own* when it is a mapping whose
``trainer`` starts with ``"persona"``. Persona's own record must be a plain mapping of the known
keys with valid values, else the file is refused (``model_invalid``: exit 2 / HTTP 400) because
Persona wrote something it cannot stand behind. Any other odd record (not a mapping, foreign
trainer, unknown keys) belongs to someone else's tool: it is ignored with a warning and the model
converts as classic RVC. Light: no torch import.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from persona.errors import PersonaError
from persona.rvc.options import F0_UNVOICED_MODES

log = logging.getLogger(__name__)

KEY = "persona"
KNOWN_KEYS = ("f0_unvoiced", "embedder", "trainer")
CLASSIC = "zero"  # what a model without a record was trained with
TRAINER_PREFIX = "persona"


@dataclass(frozen=True)
class ModelRecord:
    """The parsed record (``present=False``: none, or a foreign one that was ignored)."""

    f0_unvoiced: str = CLASSIC
    embedder: str | None = None
    trainer: str | None = None
    present: bool = False
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The record as stored in library metadata (``None`` entries left out)."""
        out: dict[str, Any] = {"f0_unvoiced": self.f0_unvoiced}
        if self.embedder is not None:
            out["embedder"] = self.embedder
        if self.trainer is not None:
            out["trainer"] = self.trainer
        return out


def trainer_version() -> str:
    from persona import __version__

    return f"{TRAINER_PREFIX} {__version__}"


def make_record(
    f0_unvoiced: str, *, embedder: str = "contentvec", trainer: str | None = None
) -> dict[str, str]:
    """The record Persona writes into an export; refuses values it could not read back."""
    return checked_record(
        {"f0_unvoiced": f0_unvoiced, "embedder": embedder, "trainer": trainer or trainer_version()}
    )


def checked_record(record: Any) -> dict[str, str]:
    """``record`` as a plain dict when it is one Persona may write; ``ValueError`` otherwise."""
    problem = _problem(record)
    if problem:
        raise ValueError(f"persona record: {problem}")
    return {k: str(record[k]) for k in KNOWN_KEYS if k in record}


def _problem(value: Any) -> str | None:
    """Why ``value`` is not a valid record, or None."""
    if not isinstance(value, dict):
        return f"it is a {type(value).__name__}, not a mapping"
    unknown = [str(k) for k in value if k not in KNOWN_KEYS]
    if unknown:
        return f"unknown key(s) {', '.join(sorted(unknown))[:120]} (known: {', '.join(KNOWN_KEYS)})"
    if "f0_unvoiced" not in value:
        return "it has no f0_unvoiced entry"
    if value["f0_unvoiced"] not in F0_UNVOICED_MODES:
        return f"f0_unvoiced is {str(value['f0_unvoiced'])[:40]!r}, expected one of {', '.join(F0_UNVOICED_MODES)}"
    for key in ("embedder", "trainer"):
        if key in value and not (isinstance(value[key], str) and len(value[key]) <= 200):
            return f"{key} is not a short string"
    return None


def _is_own(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and isinstance(value.get("trainer"), str)
        and value["trainer"].lower().startswith(TRAINER_PREFIX)
    )


def read_record(ckpt: Mapping[str, Any], name: str) -> ModelRecord:
    """The record of a loaded checkpoint dict; ``name`` (the file's) is used in messages.

    Raises ``PersonaError("model_invalid")`` for a malformed record Persona wrote; a malformed
    foreign one gives a ``ModelRecord`` with ``warnings`` and the classic convention.
    """
    if KEY not in ckpt:
        return ModelRecord()
    value = ckpt[KEY]
    problem = _problem(value)
    if problem is None:
        return ModelRecord(
            f0_unvoiced=str(value["f0_unvoiced"]),
            embedder=value.get("embedder"),
            trainer=value.get("trainer"),
            present=True,
        )
    if _is_own(value):
        raise PersonaError("model_invalid", f"{name}: its '{KEY}' record is malformed: {problem}")
    warning = f"{name}: ignored its '{KEY}' record ({problem}); converting as classic RVC (0 Hz kept)"
    log.warning(warning)
    return ModelRecord(warnings=(warning,))
