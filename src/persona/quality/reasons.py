"""Why a quality metric could not be computed: the one list of reason codes with English text.

``evaluate`` reports each missing metric's reason twice: ``unavailable`` (English text, for the
CLI and logs) and ``unavailable_codes`` (a stable code per metric, which the page renders from its
catalogue ``web/src/lib/messages.js``, key ``quality.reason.<code>``). ``tests/test_messages.py``
fails when a code here has no Korean text there.
"""

from __future__ import annotations

from typing import Any

from persona.errors import PersonaError

REASONS: dict[str, str] = {
    "no_voice_reference": "no recordings of the target voice to compare with",
    "output_silent": "the output is silent",
    "too_little_voice": "too little voice in the output to embed",
    "no_input": "no input to compare the melody with",
    "no_voiced_output": "no voiced frames in the output",
    "few_voiced_output": "too few voiced frames in the output",
    "no_voiced_input": "no voiced frames in the input",
    "few_voiced_input": "too few voiced frames in the input",
    "little_overlap": "input and output are voiced together in too few frames",
    "flat_pitch": "the pitch does not move, so its correlation is undefined",
    "too_short": "too short to score",
    "not_finite": "the audio holds NaN or infinite samples",
    "package_missing": "a package or model file the metric needs is missing",
    "preview_failed": "the preview could not be made",
    "preview_stopped": "the training was stopped while this preview was made",
    "metric_failed": "the metric failed",
}


class Reason(str):
    """An English reason that also carries its ``code`` (a key of ``REASONS``)."""

    code: str

    def __new__(cls, code: str, text: str | None = None) -> Reason:
        if code not in REASONS:
            raise KeyError(f"quality reason code {code!r} is not in persona.quality.reasons.REASONS")
        self = super().__new__(cls, text or REASONS[code])
        self.code = code
        return self


def from_exception(exc: BaseException) -> Reason:
    """The reason for a metric that raised: its own code when it said why, else a generic one."""
    if isinstance(exc, PersonaError):
        code = exc.params.get("reason") if isinstance(exc.params.get("reason"), str) else None
        if code in REASONS:
            return Reason(code, exc.message)
        return Reason("package_missing" if exc.code == "asset_missing" else "metric_failed", exc.message)
    first = str(exc).splitlines()[0][:160] if str(exc) else ""
    return Reason("metric_failed", f"{type(exc).__name__}: {first}".rstrip(": "))


def codes_of(unavailable: dict[str, Any]) -> dict[str, str]:
    """``{metric: code}`` for ``unavailable``'s reasons (plain text counts as "metric_failed")."""
    return {
        key: value.code if isinstance(value, Reason) else "metric_failed"
        for key, value in unavailable.items()
    }
