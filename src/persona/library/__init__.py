"""Models and covers on disk: metadata, import/export zips (see ``models`` and ``covers``); the name
rules are ``persona.names`` (re-exported here)."""

from pathlib import Path

from persona.fsutil import remove_stale_leftovers
from persona.library.covers import CoverEntry, CoverLibrary
from persona.library.models import ModelEntry, ModelLibrary, resolve_model_ref
from persona.names import suggest_model_name, validate_model_name
from persona.settings import PEOPLE_DIR, Settings

__all__ = [
    "CoverEntry",
    "CoverLibrary",
    "cleanup_leftovers",
    "ModelEntry",
    "ModelLibrary",
    "resolve_model_ref",
    "suggest_model_name",
    "validate_model_name",
]


def cleanup_leftovers(settings: Settings, older_than_s: float = 3600.0) -> None:
    """Remove stale leftovers of interrupted adds/deletes (``.tmp-*``, ``.trash-*``) in every
    owner's model and cover folders (another process may own a young one)."""
    people = settings.home / PEOPLE_DIR
    roots = [settings.home, *(sorted(p for p in people.iterdir() if p.is_dir()) if people.is_dir() else [])]
    for root in roots:
        for sub in ("models", "covers"):
            folder: Path = root / sub
            if folder.is_dir():
                remove_stale_leftovers(folder, (".tmp-", ".trash-"), older_than_s)
