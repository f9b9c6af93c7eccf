"""Models and covers on disk: metadata, import/export zips (see ``models`` and ``covers``); the name
rules are ``persona.names`` (re-exported here)."""

from persona.library.covers import CoverEntry, CoverLibrary
from persona.library.models import ModelEntry, ModelLibrary, resolve_model_ref
from persona.names import suggest_model_name, validate_model_name

__all__ = [
    "CoverEntry",
    "CoverLibrary",
    "ModelEntry",
    "ModelLibrary",
    "resolve_model_ref",
    "suggest_model_name",
    "validate_model_name",
]
