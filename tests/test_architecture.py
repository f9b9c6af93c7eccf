"""The shape of the code, guarded: no layer imports upward, the web process never loads torch.

Layers, bottom up: the shared basics (``errors``, ``settings``, ``progress``, ``params``, ...);
``assets`` (the weights manifest and downloader); the engine (``rvc``, ``audio``, ``separation``,
``training``, ``cover``, ``quality``); ``catalogue`` (whose objects exist, in the job database);
``library`` (models and covers on disk); ``jobs``; all of them over ``db`` (the job database);
``server``; and the composition roots (``cli``, ``testing``) that assemble the program. The scan
reads every ``import`` statement of ``src/persona`` (function-local ones too: a lazy import is
still a dependency) without running anything.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "persona"
ENGINE = ("rvc", "audio", "separation", "training", "cover", "quality", "provenance")
ABOVE_ENGINE = ("catalogue", "library", "jobs", "server", "cli", "testing")

# area -> areas it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    **{area: ABOVE_ENGINE for area in ENGINE},
    "assets": (*ENGINE, *ABOVE_ENGINE),
    "library": ("jobs", "server", "cli", "testing"),
    "jobs": ("server", "cli", "testing", "accounts"),
    "accounts": ("server", "cli", "testing"),
    "catalogue": ("library", "server", "cli", "testing"),
    "db": ("assets", *ENGINE, *ABOVE_ENGINE, "accounts"),
    "server": ("cli", "testing"),
}
# Upward imports still in the code, each a known debt (none left: train_model hands its model to
# its caller, persona.library.trained). The list may only shrink: a new upward import fails the
# test, and so does an entry that is no longer true.
KNOWN_UPWARD: set[tuple[str, str]] = set()
# Production code that may pick a test registry: the composition root of the worker only.
TESTING_USERS = {"persona.cli.serve"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> set[tuple[str, str]]:
    """Every (module, imported persona module) pair in the source tree."""
    pairs: set[tuple[str, str]] = set()
    for path in SRC.rglob("*.py"):
        module = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
            else:
                continue
            pairs.update((module, t) for t in targets if t == "persona" or t.startswith("persona."))
    return pairs


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


IMPORTS = _imports()


def test_the_scan_sees_the_code():
    assert len(IMPORTS) > 200  # a broken scan would pass every rule below
    assert ("persona.jobs.runner", "persona.jobs.store") in IMPORTS


def test_no_layer_imports_upward():
    upward = {(src, dst) for src, dst in IMPORTS if _area(dst) in FORBIDDEN.get(_area(src), ())}
    new = sorted(upward - KNOWN_UPWARD)
    assert not new, f"upward imports: {new}"
    gone = sorted(KNOWN_UPWARD - upward)
    assert not gone, f"fixed (remove from KNOWN_UPWARD): {gone}"


def test_test_wiring_stays_out_of_production():
    users = {src for src, dst in IMPORTS if _area(dst) == "testing" and _area(src) != "testing"}
    assert users == TESTING_USERS


def test_the_areas_form_no_cycle():
    """Between areas (packages and top-level modules) imports run one way only."""
    graph: dict[str, set[str]] = {}
    for src, dst in IMPORTS:
        a, b = _area(src), _area(dst)
        if a and b and a != b and (src, dst) not in KNOWN_UPWARD:
            graph.setdefault(a, set()).add(b)
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] if nxt in path else path
                pytest.fail(f"import cycle: {' -> '.join([*cycle, nxt])}")
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def test_the_web_process_and_the_request_types_load_no_torch():
    code = (
        "import sys\n"
        "import persona.server.app, persona.training.request, persona.cover.request\n"
        "import persona.params, persona.jobs.needs, persona.assets.manifest\n"
        "print(sorted(m for m in ('torch', 'torchaudio', 'faiss', 'pymss_core') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_one_list_of_pitch_methods():
    """F0_METHODS is defined once (rvc.options); the engine and training use that very tuple."""
    from persona.rvc import f0, options
    from persona.training import request

    assert f0.F0_METHODS is options.F0_METHODS is request.F0_METHODS
    defined = [
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        and any(
            isinstance(t, ast.Name) and t.id == "F0_METHODS"
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        )
    ]
    assert defined == ["rvc/options.py"]
