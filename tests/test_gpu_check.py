"""benchmarks/gpu_check.py: its CPU dry run and its refusal without a CUDA device."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"


def _run(tmp_path: Path, *args: str) -> tuple[int, dict]:
    out = tmp_path / "check.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), *args], env=env, capture_output=True, text=True
    )
    return proc.returncode, json.loads(out.read_text())


def test_without_cuda_it_says_so_and_exits_2(tmp_path):
    rc, report = _run(tmp_path, "--steps", "convert")
    assert rc == 2
    assert "no CUDA device" in report["error"] and report["steps"] == {}


@pytest.mark.slow
def test_dry_run_parity_step_passes_and_reports(tmp_path):
    rc, report = _run(tmp_path, "--dry-run", "--steps", "parity,nonsense")
    assert report["dry_run"] is True and report["device"] == "cpu"
    parity = report["steps"]["parity"]
    assert parity["pass"] is True
    for case in parity["cases"].values():
        assert case["same_length"] and case["rms_vs_reference"] <= case["reference_vs_itself_max"]
    # an unknown step fails the run instead of being ignored
    assert report["steps"]["nonsense"]["pass"] is False and rc == 1 and report["pass"] is False
