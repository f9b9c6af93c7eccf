"""What was consented, kept with the model it allowed: the clip as recorded, the sentence, the
clip's sha256, when, by which account, and how sure the checks were. A trained model's record
says ``kind: "recorded"``; an imported model's says ``kind: "imported"`` (the person confirmed
they may use that voice; nobody recorded anything).

The record is a folder inside the model's own folder (``consent/record.json`` + the clip), so it
is deleted with the model, exported with the person's data, and never part of a model zip.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from persona.errors import PersonaError
from persona.fsutil import atomic_write_text
from persona.settings import Settings

FOLDER = "consent"
RECORD = "record.json"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def recorded(consent: dict[str, Any], clip_suffix: str) -> dict[str, Any]:
    """The record of a live-read consent, from what the training job carried (``consent`` params:
    sentence, sha256, recorded_at, owner, speech_s; similarity once the worker checked the voice)."""
    return {
        "kind": "recorded",
        "sentence": consent["sentence"],
        "clip": f"clip{clip_suffix}",
        "sha256": consent["sha256"],
        "recorded_at": consent.get("recorded_at"),
        "account": consent.get("owner", ""),
        "speech_s": consent.get("speech_s"),
        "similarity": consent.get("similarity"),
    }


def imported(*, owner: str | None) -> dict[str, Any]:
    return {"kind": "imported", "confirmed_at": time.time(), "account": owner or ""}


def write(model_dir: Path, record: dict[str, Any], clip: Path | None = None) -> None:
    folder = model_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    if clip is not None:
        shutil.copyfile(clip, folder / record["clip"])
    atomic_write_text(folder / RECORD, json.dumps(record, ensure_ascii=False, indent=1))


def read(model_dir: Path) -> dict[str, Any] | None:
    """The model's consent record, or None (a model from before the gate, or none was needed)."""
    try:
        return json.loads((model_dir / FOLDER / RECORD).read_text())
    except (OSError, ValueError):
        return None


def public(record: dict[str, Any] | None) -> dict[str, Any]:
    """What the model page shows: no clip path, no account id."""
    if not record:
        return {"status": "none"}
    out = {"status": record["kind"]}
    for key in ("sentence", "sha256", "recorded_at", "confirmed_at", "similarity"):
        if key in record:
            out[key] = record[key]
    return out


def claim_clip(settings: Settings, sha256: str) -> None:
    """Mark a consent clip's bytes as used; a clip used before (a replay) is refused. The marks
    are empty files named by hash (an exclusive create: two racing requests cannot both claim)."""
    folder = settings.home / "consent" / "used"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(folder / sha256, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise PersonaError(
            "consent_replayed", "this consent recording was used before; read the new sentence live"
        ) from None
