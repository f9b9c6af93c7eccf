"""Every code a server error or a progress message can carry has Korean (and English) text.

The codes are collected from the source itself: each ``PersonaError("code", ...)`` and
``error_response("code", ...)`` call and each ``{"code": "..."}`` literal under ``src/persona``
(an AST scan, so a new raise site is covered without anyone listing it), and every progress
code in ``persona.messages.PROGRESS``. The page's catalogue ``web/src/lib/messages.js`` must have
``error.<code>`` / ``progress.<code>`` in both languages, using only the params the server sends,
and ``quality.reason.<code>`` for every reason a quality metric may be unavailable
(``persona.quality.reasons.REASONS``).
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from persona.messages import PROGRESS, Msg, code_of, msg
from persona.quality.reasons import REASONS

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "persona"
CATALOGUE = ROOT / "web" / "src" / "lib" / "messages.js"
RAISERS = {"PersonaError", "error_response"}


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _trees():
    for path in sorted(SRC.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def server_error_codes() -> set[str]:
    codes = {"cancelled"}  # persona.errors.Cancelled
    for _path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in RAISERS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    codes.add(first.value)
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "code"
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                    ):
                        codes.add(value.value)
    return codes


def catalogue() -> dict[str, dict[str, str]]:
    text = CATALOGUE.read_text(encoding="utf-8")
    ko_part, en_part = text.split("const en = {", 1)
    entry = re.compile(r'^\s*"([^"]+)":\s*"((?:[^"\\]|\\.)*)"', re.M)
    return {"ko": dict(entry.findall(ko_part)), "en": dict(entry.findall(en_part))}


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_the_scan_finds_the_codes_it_should():
    codes = server_error_codes()
    # Known raise sites in different layers: the scan must see them, or it checks nothing.
    assert {"model_invalid", "audio_unreadable", "asset_missing", "upload_too_large", "cancelled"} <= codes
    assert len(codes) > 30


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_server_error_code_has_text(lang):
    keys = catalogue()[lang]
    missing = sorted(c for c in server_error_codes() if f"error.{c}" not in keys)
    assert not missing, f"web/src/lib/messages.js ({lang}) lacks error.<code> for: {missing}"


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_progress_code_has_text_with_the_servers_params(lang):
    keys = catalogue()[lang]
    missing = sorted(c for c in PROGRESS if f"progress.{c}" not in keys)
    assert not missing, f"web/src/lib/messages.js ({lang}) lacks progress.<code> for: {missing}"
    for code, template in PROGRESS.items():
        extra = _placeholders(keys[f"progress.{code}"]) - _fields(template)
        assert not extra, f"progress.{code} ({lang}) uses {extra}, which the server never sends"


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_quality_reason_code_has_text(lang):
    keys = catalogue()[lang]
    missing = sorted(c for c in REASONS if f"quality.reason.{c}" not in keys)
    assert not missing, f"web/src/lib/messages.js ({lang}) lacks quality.reason.<code> for: {missing}"


def test_quality_reports_carry_a_code_for_every_missing_metric():
    import numpy as np

    from persona.quality import evaluate

    silent = np.zeros(16000, dtype=np.float32)
    m = evaluate(silent, 16000, silent, 16000, metrics=["similarity", "f0"])
    assert (
        set(m["unavailable_codes"])
        == set(m["unavailable"])
        == {"speaker_similarity", "f0_corr", "f0_rmse_cents"}
    )
    assert m["unavailable_codes"]["speaker_similarity"] == "no_voice_reference"
    assert m["unavailable_codes"]["f0_corr"] == "output_silent"
    assert all(isinstance(v, str) and not hasattr(v, "code") for v in m["unavailable"].values())


def test_msg_calls_pass_exactly_the_templates_params():
    seen = set()
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) == "msg" and node.args:
                first = node.args[0]
                if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                    continue
                code = first.value
                assert code in PROGRESS, f"{path.name}: msg({code!r}) is not in PROGRESS"
                given = {k.arg for k in node.keywords}
                assert given == _fields(PROGRESS[code]), f"{path.name}: msg({code!r}) passes {given}"
                seen.add(code)
    assert {"preprocess_recording", "features_part", "train_epoch", "separate_vocals"} <= seen


def test_progress_texts_name_no_internals():
    for code, template in PROGRESS.items():
        for internal in ("0_0", ".wav", "htdemucs", "window", "stems", "pitch done"):
            assert internal not in template, f"{code}: {template!r} names {internal!r}"


def test_msg_is_its_english_text_and_carries_its_code():
    m = msg("train_epoch", epoch=2, epochs=5)
    assert isinstance(m, Msg) and m == "training round 2 of 5"
    assert code_of(m) == ("train_epoch", {"epoch": 2, "epochs": 5})
    assert code_of("window 1/1") == ("", {})
    with pytest.raises(KeyError):
        msg("no_such_code")
