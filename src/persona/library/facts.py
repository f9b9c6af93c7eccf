"""What Persona knows about a model beyond its ``.pth``, carried through an exported zip.

``모델 저장하기`` writes ``<name>.pth`` (+ ``.index``) at the zip's root, as RVC and Applio expect,
and one more file, ``persona-model.json``: the model's voice profile, voice embedding (so its
covers still score similarity), quality report, training facts, f0 convention and embedder.
RVC and Applio look only for ``.pth`` and ``.index`` and ignore it. Importing the zip again reads
it back; it is untrusted input like the rest of the zip, so only the known keys are taken, each
checked for type and size (anything else is dropped, never an error: the model itself is what
the person asked to import). The ``.pth``'s own record stays the authority on the f0 convention
and embedder; the file's copy is used only for a ``.pth`` without one.
"""

from __future__ import annotations

import json
import math
from typing import Any

FILE = "persona-model.json"
FORMAT = "persona-model-facts/1"
MAX_BYTES = 256 * 1024
CARRIED = ("voice_profile", "voice_embedding", "quality", "training", "epochs", "f0_unvoiced", "embedder")
_EMBEDDING_MAX = 4096
_MAX_KEYS = 64
_MAX_TEXT = 500
_MAX_DEPTH = 3


def for_export(metadata: dict[str, Any]) -> str:
    """The sidecar's text for a library entry's metadata."""
    facts = {k: metadata[k] for k in CARRIED if metadata.get(k) is not None}
    return json.dumps({"format": FORMAT, "facts": facts}, ensure_ascii=False, indent=1)


def _plain(value: Any, depth: int = 0) -> bool:
    """JSON scalars, and small dicts/lists of them, at most ``_MAX_DEPTH`` deep."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, (int, float)):
        return math.isfinite(value)
    if isinstance(value, str):
        return len(value) <= _MAX_TEXT
    if depth >= _MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return len(value) <= _MAX_KEYS and all(
            isinstance(k, str) and len(k) <= 100 and _plain(v, depth + 1) for k, v in value.items()
        )
    if isinstance(value, list):
        return len(value) <= _MAX_KEYS and all(_plain(v, depth + 1) for v in value)
    return False


def _embedding(value: Any) -> bool:
    return (
        isinstance(value, list)
        and 0 < len(value) <= _EMBEDDING_MAX
        and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in value)
    )


def _checks(key: str, value: Any) -> bool:
    if key == "voice_embedding":
        return _embedding(value)
    if key in ("voice_profile", "quality", "training"):
        return isinstance(value, dict) and _plain(value)
    if key == "epochs":
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1_000_000
    return isinstance(value, str) and 0 < len(value) <= 100  # f0_unvoiced, embedder


def from_text(raw: bytes) -> dict[str, Any]:
    """The carried facts in a sidecar's bytes that pass their checks (``{}`` for anything else)."""
    if len(raw) > MAX_BYTES:
        return {}
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return {}
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("facts"), dict):
        return {}
    return {k: v for k, v in doc["facts"].items() if k in CARRIED and _checks(k, v)}
