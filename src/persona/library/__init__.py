"""Models and covers on disk: names, metadata, import/export zips (see ``models`` and ``covers``)."""

from persona.library.covers import CoverEntry, CoverLibrary
from persona.library.models import ModelEntry, ModelLibrary
from persona.library.names import suggest_model_name, validate_model_name

__all__ = [
    "CoverEntry",
    "CoverLibrary",
    "ModelEntry",
    "ModelLibrary",
    "suggest_model_name",
    "validate_model_name",
]
