"""Command-line flags written from the request types' parameter specs (``persona.params``).

A flag's type, its default, its choices and the range or choices its help states all come from
the spec that the server's forms, the OpenAPI document and ``GET /api/health`` use, so
``persona convert``, ``cover`` and ``train`` offer exactly what the API offers. A command writes
only the words: what the flag does.
"""

from __future__ import annotations

import argparse
from typing import Any

from persona.params import Choice, Flag, Number, Param


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def spec_help(spec: Param, what: str, *, show_range: bool = True, list_choices: bool = True) -> str:
    """``what``, then the spec's range or choices and its default: ``index influence, 0..1 (default 0.75)``."""
    if isinstance(spec, Flag):
        return what
    if isinstance(spec, Number) and show_range:
        what = f"{what}, {_shown(spec.min)}..{_shown(spec.max)}"
    elif isinstance(spec, Choice) and list_choices and not spec.pattern:
        what = f"{what}: {'|'.join(spec.choices)}"
    return f"{what} (default {_shown(spec.default)})"


def add_spec_flag(
    p: argparse.ArgumentParser,
    name: str,
    spec: Param,
    what: str,
    *,
    strict: bool = True,
    show_range: bool = True,
    list_choices: bool | None = None,
    **overrides: Any,
) -> None:
    """Add ``--name-with-dashes`` for the parameter ``name``. ``strict``: argparse refuses a value
    outside a choice's list and shows the list (else the request type's own validation answers,
    and the help lists the choices unless ``list_choices`` is False); ``overrides``: argparse
    keywords that differ (a ``type`` that also takes ``auto``, ``nargs``...)."""
    flag = "--" + name.replace("_", "-")
    if isinstance(spec, Flag):
        p.add_argument(flag, action="store_true", help=spec_help(spec, what), **overrides)
        return
    strict = strict and isinstance(spec, Choice) and not spec.pattern
    if list_choices is None:
        list_choices = not strict  # a strict flag's usage line shows them already
    kwargs: dict[str, Any] = {
        "default": spec.default,
        "help": spec_help(spec, what, show_range=show_range, list_choices=list_choices),
    }
    if isinstance(spec, Number):
        kwargs["type"] = spec.type
    elif strict:
        kwargs["choices"] = spec.choices
    kwargs.update(overrides)
    p.add_argument(flag, **kwargs)
