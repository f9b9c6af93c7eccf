"""Content encoders ("embedders") a voice model can have been trained with, and where each lives.

Applio records the encoder in an exported model's ``embedder_model`` key: ``contentvec`` (what RVC
itself uses, our ``hubert_base`` asset), ``spin``, ``spin-v2``, ``chinese-hubert-base``,
``japanese-hubert-base``, ``korean-hubert-base``, or ``custom`` (a transformers folder the user
supplies; the model does not say which). Persona's own exports say it in their ``persona`` record
(``embedder``). A model that says nothing was made by RVC: ``contentvec``. Every named encoder is a
transformers HuBERT folder (``config.json`` + ``pytorch_model.bin``), loaded by
``persona.rvc.content.ContentEncoder``; the folders come from Applio's public repository (see
``persona.assets.manifest``). Light: no torch, so the server can validate names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from persona.errors import PersonaError

DEFAULT = "contentvec"
CUSTOM = "custom"
AUTO = "auto"
# name -> asset name in the assets folder (see persona.assets.manifest).
ASSETS: dict[str, str] = {
    "contentvec": "hubert_base",
    "spin": "embedders/spin",
    "spin-v2": "embedders/spin-v2",
    "chinese-hubert-base": "embedders/chinese-hubert-base",
    "japanese-hubert-base": "embedders/japanese-hubert-base",
    "korean-hubert-base": "embedders/korean-hubert-base",
}
NAMES: tuple[str, ...] = tuple(ASSETS)
# Applio's own spellings of the same names (its folders use underscores).
_ALIASES = {n.replace("-", "_"): n for n in NAMES} | {"hubert_base": DEFAULT, "hubert-base": DEFAULT}


def normalize(name: Any) -> str:
    """A known encoder name (``custom`` included), or PersonaError ``embedder_unknown``."""
    text = str(name).strip().lower()
    text = _ALIASES.get(text, text)
    if text in ASSETS or text == CUSTOM:
        return text
    raise PersonaError(
        "embedder_unknown",
        f"unknown content encoder {name!r}; Persona knows {', '.join(NAMES)} (or a custom folder)",
    )


def of_model(metadata: Mapping[str, Any], record: Mapping[str, Any] | None = None) -> str:
    """The encoder a model was trained with: its Persona record, Applio's key, else RVC's ContentVec.

    An encoder Persona does not know is ``embedder_unknown`` naming it (converting with another
    encoder would quietly give a wrong voice); ``custom`` stays ``custom`` (the caller then needs
    the folder).
    """
    record = record if record is not None else metadata.get("persona")
    raw = record.get("embedder") if isinstance(record, Mapping) else None
    raw = raw or metadata.get("embedder_model")
    return normalize(raw) if raw else DEFAULT


def choose(model_embedder: str, override: str | None) -> str:
    """The encoder to convert with: an explicit choice wins over the model's (``auto`` = the model's)."""
    if override is None or str(override).strip().lower() in ("", AUTO):
        return model_embedder
    return normalize(override)
