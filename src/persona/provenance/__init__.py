"""Provenance: every output Persona makes says that a machine made it.

The hooks the writers call, each once, where the final audio is written:

- ``mark_audio(samples, sr, settings)`` -> the samples with Persona's inaudible watermark
  (``watermark.py``: a keyed patchwork mark, no weights), or ``new_marker(settings, sr, channels)``
  for audio written block by block (``Marker.process`` / ``flush``, as the mixer does).
- ``credential_file(path, facts, settings)`` -> player-visible tags and a signed C2PA manifest on
  a written file (``credentials.py``; key and certificate in ``identity.py``).
- ``detect_file(path)`` -> ``{file, marked, score}`` for ``persona detect`` and ``POST /api/detect``.

Marking is on unless the operator sets ``PERSONA_MARKING=off``; then every unmarked output is
logged as such (``marking_enabled``). The package knows nothing of Flask or of people.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from persona.errors import PersonaError
from persona.provenance import credentials
from persona.provenance.credentials import CoverFacts, Credentials, credential_file, read_credentials
from persona.provenance.watermark import THRESHOLD, Detection, Marker, detect, embed
from persona.settings import Settings

log = logging.getLogger(__name__)

MARKING_VALUES = ("on", "off")

__all__ = [
    "THRESHOLD",
    "CoverFacts",
    "Credentials",
    "Detection",
    "Marker",
    "check_ready",
    "credential_file",
    "detect_file",
    "mark_audio",
    "model_facts",
    "marking_enabled",
    "new_marker",
    "read_credentials",
    "sealer",
    "summarize_credentials",
]


def marking_enabled(settings: Settings | None) -> bool:
    """True unless the operator turned marking off explicitly (which is logged every time)."""
    value = "on" if settings is None else str(settings.marking).strip().lower()
    if value not in MARKING_VALUES:
        raise PersonaError(
            "setting_invalid",
            f"PERSONA_MARKING must be 'on' or 'off', not {settings.marking!r}",
            params={"name": "PERSONA_MARKING", "value": str(settings.marking)},
        )
    if value == "off":
        log.warning("watermarking is OFF (PERSONA_MARKING=off): outputs carry no watermark")
        return False
    return True


def check_ready(settings: Settings) -> str:
    """Raise unless outputs can be marked and signed as configured; returns the signer's subject.

    Creates the instance's signing key on first use. Called when ``persona serve`` / ``worker``
    start and before a cover's work begins."""
    from persona.provenance.identity import load_identity

    marking_enabled(settings)  # raises setting_invalid; logs when marking is off
    return load_identity(settings).subject


def mark_audio(samples: np.ndarray, sr: int, settings: Settings | None = None) -> np.ndarray:
    """``samples`` ((n,) or (channels, n), float) with Persona's watermark, float32, same shape."""
    if not marking_enabled(settings):
        return np.asarray(samples, np.float32)
    return embed(samples, sr)


def new_marker(settings: Settings | None, sr: int, channels: int, chunk_s: float = 20.0) -> Marker | None:
    """A streaming marker for audio written in blocks; None only when marking is off. ``chunk_s``:
    how much it holds back (a progressive cover's playable part marks in short chunks)."""
    return Marker(sr, channels, chunk_s=chunk_s) if marking_enabled(settings) else None


def sealer(settings: Settings, model: Any, kind: str, *, title: str | None = None) -> Callable[[Path], Any]:
    """``seal(path)``: the content credentials for an output of ``model``, for a writer's hook."""
    marked = str(settings.marking).strip().lower() != "off"
    facts = model_facts(model, kind, marked=marked, title=title)
    return lambda path: credential_file(path, facts, settings)


def detect_file(
    path: str | os.PathLike[str], *, name: str | None = None, max_seconds: float | None = None
) -> dict[str, Any]:
    """``{file, marked, score}`` for an audio file; PersonaError ``audio_unreadable`` for others."""
    from persona.audio.io import load_audio

    audio, sr = load_audio(Path(path), mono=True, max_seconds=max_seconds)
    found: Detection = detect(audio, sr)
    return {"file": name or Path(path).name, "marked": found.marked, "score": found.score}


def summarize_credentials(manifest: dict[str, Any]) -> dict[str, Any]:
    """What a person wants from a manifest: who made it, how, when, and whether the signature holds."""
    assertions = {a.get("label"): a.get("data") for a in manifest.get("assertions", [])}
    actions = (assertions.get("c2pa.actions.v2") or {}).get("actions") or [{}]
    cover = assertions.get(credentials.ASSERTION) or {}
    return {
        "generator": (manifest.get("claim_generator_info") or [{}])[0].get("name"),
        "digital_source_type": actions[0].get("digitalSourceType"),
        "signed_by": (manifest.get("signature_info") or {}).get("common_name"),
        "validation_state": manifest.get("validation_state"),
        **{
            k: cover.get(k)
            for k in ("kind", "model_sha256", "consent_record", "consent", "marked", "created_at")
        },
    }


def model_facts(
    model: Any, kind: str = "cover", *, marked: bool = True, title: str | None = None
) -> CoverFacts:
    """The facts about an output of ``model`` (a library entry, a resolved model or a .pth path):
    the .pth's SHA-256 and the model's consent record (``persona.consent.record``, kept in the
    model's folder): ``recorded`` (a live-read consent), ``imported`` (the importer confirmed
    their right to the voice) or ``none``."""
    from persona.consent import record as consent_record
    from persona.separation.cache import file_sha256

    pth = getattr(model, "pth_path", None) or model
    try:
        pth = Path(os.fspath(pth))
        digest = file_sha256(pth)
        consent = (consent_record.read(pth.parent) or {}).get("kind") or "none"
    except (OSError, TypeError):
        digest, consent = None, "none"
    return CoverFacts(
        kind=kind,
        model_sha256=digest,
        consent_record=consent == "recorded",
        consent=consent,
        marked=marked,
        title=title,
    )
