"""How the listing commands (`persona models`, `persona users list`) print: with ``--json`` one
JSON array for scripts, else a line a row, or a hint when there are none."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import Any


def add_json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON")


def print_rows(
    rows: Sequence[dict[str, Any]], *, as_json: bool, line: Callable[[dict[str, Any]], str], empty: str
) -> int:
    """Print ``rows`` as JSON or ``line(row)`` each (``empty`` when there are none); exit code 0."""
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print(empty)
    for row in rows:
        print(line(row))
    return 0
