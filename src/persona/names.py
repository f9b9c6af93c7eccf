"""Model names: the one place a client-supplied name is checked before it becomes a folder name.

A name is NFC-normalised, trimmed, and must be 1..64 characters of letters and digits of any
script (Korean, Japanese, Cyrillic, ...), combining marks, spaces and ``-_.()[]+~!@,'``. No path
separators, no control characters, no names Windows reserves (``con``, ``nul``, ``com1``...),
no ``.``/``..`` and nothing starting with a dot (hidden files and our temp folders start with one).
Hangul fillers (U+3164, U+115F, U+1160, U+FFA0) count as letters to Unicode but render blank:
a name holding one would show as empty or as a look-alike of another, so they are refused.
"""

from __future__ import annotations

import re
import unicodedata

from persona.errors import PersonaError

MAX_NAME_CHARS = 64
_ALLOWED_PUNCT = set(" -_.()[]+~!@,'")
# Letters by category, invisible on screen (issue 24: a name of fillers only showed blank).
INVISIBLE_LETTERS = frozenset("\u3164\u115f\u1160\uffa0")
_RESERVED = (
    {"con", "prn", "aux", "nul", "clock$"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)


def _char_ok(ch: str) -> bool:
    if ch in _ALLOWED_PUNCT:
        return True
    if ch in INVISIBLE_LETTERS:
        return False
    cat = unicodedata.category(ch)
    return cat[0] in ("L", "N", "M")


def validate_model_name(name: object) -> str:
    """Return the normalised name or raise PersonaError ``name_invalid``."""
    if not isinstance(name, str):
        raise PersonaError("name_invalid", "a model name is required")
    norm = unicodedata.normalize("NFC", name).strip()
    norm = re.sub(r"\s+", " ", norm)
    if not norm:
        raise PersonaError("name_invalid", "a model name is required")
    if len(norm) > MAX_NAME_CHARS:
        raise PersonaError("name_invalid", f"a model name may have at most {MAX_NAME_CHARS} characters")
    if any(ch in INVISIBLE_LETTERS for ch in norm):
        raise PersonaError(
            "name_invalid",
            "a model name may not hold Hangul fillers (U+3164, U+115F, U+1160, U+FFA0): they show as blank",
            params={"reason": "invisible"},
        )
    bad = sorted({ch for ch in norm if not _char_ok(ch)})
    if bad:
        shown = " ".join(repr(c) for c in bad[:5])
        raise PersonaError(
            "name_invalid",
            f"a model name may hold letters, digits, spaces and - _ . ( ) [ ] + ~ ! @ , ' only (not {shown})",
        )
    if not any(unicodedata.category(ch)[0] in ("L", "N") for ch in norm):
        # only combining marks (and punctuation): nothing a person can read or type back
        raise PersonaError("name_invalid", "a model name needs at least one letter or digit")
    if norm.startswith(".") or norm.endswith("."):
        raise PersonaError("name_invalid", "a model name may not start or end with a dot")
    stem = norm.split(".")[0].strip().lower()
    if stem in _RESERVED:
        raise PersonaError("name_invalid", f"'{norm}' is a reserved file name; choose another")
    return norm


def suggest_model_name(raw: str, fallback: str = "model") -> str:
    """Turn a file name stem into a valid model name (replacing what is not allowed)."""
    text = unicodedata.normalize("NFC", raw or "")
    text = "".join(ch if _char_ok(ch) else "_" for ch in text)
    text = re.sub(r"\s+", " ", text).strip(" ._")[:MAX_NAME_CHARS].strip(" ._")
    try:
        return validate_model_name(text)
    except PersonaError:
        return fallback
