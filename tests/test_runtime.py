"""The process-wide allocator tuning (persona.runtime): on, off by env, idempotent, harmless."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from persona.runtime import SPIN_COUNT

SRC = str(Path(__file__).resolve().parent.parent / "src")

_PROBE = """
import ctypes, json, sys
import persona.runtime as rt
first = rt.tune_allocator()
second = rt.tune_allocator()
# a block far above glibc's largest dynamic mmap threshold (32 MiB), written, freed, reused
buf = (ctypes.c_char * (256 << 20))()
ctypes.memset(buf, 1, 256 << 20)
del buf
rt.release_memory()
print(json.dumps([first, second]))
"""


def _probe(env_value: str | None) -> list[bool]:
    env = {**os.environ, "PYTHONPATH": SRC}
    env.pop("PERSONA_TUNE_MALLOC", None)
    if env_value is not None:
        env["PERSONA_TUNE_MALLOC"] = env_value
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_tunes_once_and_reports_it():
    assert _probe(None) == [True, True]


def test_env_switch_turns_it_off():
    assert _probe("0") == [False, False]


_SYNTH = """
import hashlib, torch, persona.runtime as rt
rt.tune_allocator()
from persona.rvc.models import build_synthesizer
from persona.testing.rvc import randomize_, tiny_config
net = randomize_(build_synthesizer(tiny_config(), "v2", True, with_posterior=False).eval(), 3)
g = torch.Generator().manual_seed(0)
t = 200
phone, pitchf = torch.randn(1, t, 768, generator=g), torch.rand(1, t, generator=g) * 300 + 80
pitch = torch.randint(1, 255, (1, t), generator=g)
with torch.inference_mode():
    out = net.infer(phone, torch.tensor([t]), pitch, pitchf, torch.tensor([0]), generator=g)[0]
print(hashlib.sha256(out.numpy().tobytes()).hexdigest())
"""


def _synth_digests(name: str, threads: str) -> set[str]:
    """Digests of one seeded synthesizer pass with the switch ``name`` on and off."""
    digests = set()
    for value in ("1", "0"):
        env = {**os.environ, "PYTHONPATH": SRC, name: value, "OMP_NUM_THREADS": threads}
        env.pop("OMP_WAIT_POLICY", None)
        out = subprocess.run(
            [sys.executable, "-c", _SYNTH], env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip().splitlines()[-1])
    return digests


def test_numerics_do_not_depend_on_it():
    """The same seeded synthesizer pass gives bit-identical audio with and without the tuning."""
    assert len(_synth_digests("PERSONA_TUNE_MALLOC", "1")) == 1


def test_importing_persona_bounds_the_onednn_primitive_cache() -> None:
    """oneDNN reads its cache size once: persona sets it on import, a user's value wins."""
    probe = "import os, persona; print(os.environ['ONEDNN_PRIMITIVE_CACHE_CAPACITY'])"
    env = {**os.environ, "PYTHONPATH": SRC}
    env.pop("ONEDNN_PRIMITIVE_CACHE_CAPACITY", None)
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    from persona.runtime import PRIMITIVE_CACHE

    assert out.stdout.strip() == str(PRIMITIVE_CACHE)
    env["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = "64"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "64"


def _wait_env(extra: dict[str, str]) -> str:
    """OMP_WAIT_POLICY after importing persona, with ``extra`` in a clean environment."""
    env = {**os.environ, "PYTHONPATH": SRC}
    for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "PERSONA_OMP_PASSIVE"):
        env.pop(name, None)
    env.update(extra)
    probe = "import os, persona; print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_persona_makes_idle_openmp_threads_sleep_soon() -> None:
    """libgomp's threads spin 300000 rounds between torch's parallel regions unless told
    otherwise; a user's own wait policy or spin count wins, PERSONA_OMP_PASSIVE=0 leaves libgomp's default."""
    assert _wait_env({}) == f"None {SPIN_COUNT}"
    assert _wait_env({"OMP_WAIT_POLICY": "ACTIVE"}) == "ACTIVE None"
    assert _wait_env({"OMP_WAIT_POLICY": "PASSIVE"}) == "PASSIVE None"
    assert _wait_env({"GOMP_SPINCOUNT": "500"}) == "None 500"
    assert _wait_env({"PERSONA_OMP_PASSIVE": "0"}) == "None None"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="GNU libgomp's report")
def test_the_wait_policy_reaches_torchs_libgomp() -> None:
    """Set on import of persona, before torch loads libgomp (which reads it once): a short spin."""
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_DISPLAY_ENV": "VERBOSE"}
    for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "PERSONA_OMP_PASSIVE"):
        env.pop(name, None)
    code = "import persona, torch; torch.ones(64, 64).sum()"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    spin = [line for line in out.stderr.splitlines() if "GOMP_SPINCOUNT" in line]
    if not spin:
        pytest.skip("torch's OpenMP runtime is not GNU libgomp")
    assert spin[0].split("=")[1].strip(" '") == str(SPIN_COUNT)


def test_numerics_do_not_depend_on_the_wait_policy() -> None:
    """Two threads, the same seeded synthesizer pass: bit-identical audio sleeping or spinning."""
    assert len(_synth_digests("PERSONA_OMP_PASSIVE", "2")) == 1
