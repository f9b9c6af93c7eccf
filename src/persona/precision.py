"""Which engine parts run in reduced precision on this machine, decided in one place.

On a CUDA GPU the parts already run in fp16 as their references do (pymss's AMP for separation;
RVC's ``is_half`` for HuBERT, RMVPE and the synthesizer). On a CPU everything runs in fp32 unless
the CPU has bf16 instructions: oneDNN's bf16 kernels beat fp32 only with AMX tiles
(``amx_bf16``) or AVX512-BF16 dot products (``avx512_bf16``); elsewhere it emulates bf16 with
plain AVX-512 and is slower than fp32. The machines differ, so the flags are read at run time
from ``/proc/cpuinfo`` (torch's ``get_cpu_capability()`` says only "AVX512", and
``torch.ops.mkldnn._is_mkldnn_bf16_supported()`` is true on emulating CPUs too).

A part runs in bf16 (``torch.autocast`` on the CPU) only where it measured faster *and* its
output stayed within its quality bar (benchmarks/README.md, "bf16 per part"):
``BF16_PARTS``. The switch is ``PERSONA_BF16`` (``Settings.bf16``): ``auto`` (default: those
parts on CPUs with the instructions), ``on`` (those parts on any CPU, for comparing), ``off``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from persona.errors import PersonaError

MODES = ("auto", "on", "off")
# CPU flags (Linux /proc/cpuinfo names) under which oneDNN runs bf16 natively.
FAST_BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})
# Parts that passed their bar in bf16 (benchmarks/README.md, "bf16 per part"); the others
# (HuBERT, RMVPE, the synthesizer) stay fp32 on a CPU so RVC parity holds. Within separation,
# each model says whether it passed (``SeparationModel.bf16``: HTDemucs yes, the RoFormers no).
SEPARATION = "separation"
BF16_PARTS = frozenset({SEPARATION})
_CPUINFO = Path("/proc/cpuinfo")


def parse_cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The first processor's feature flags in ``/proc/cpuinfo`` text (x86 ``flags``, Arm ``Features``)."""
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


@functools.cache
def cpu_flags() -> frozenset[str]:
    """This machine's CPU flags (empty where there is no ``/proc/cpuinfo``: macOS, Windows)."""
    try:
        return parse_cpu_flags(_CPUINFO.read_text(errors="replace"))
    except OSError:
        return frozenset()


def fast_bf16(flags: frozenset[str] | None = None) -> bool:
    """Whether the CPU computes bf16 natively (AMX or AVX512-BF16)."""
    return bool(FAST_BF16_FLAGS & (cpu_flags() if flags is None else flags))


def check_mode(mode: str) -> str:
    value = str(mode).strip().lower()
    if value not in MODES:
        raise PersonaError(
            "setting_invalid",
            f"PERSONA_BF16 must be one of {', '.join(MODES)}, not {mode!r}",
            params={"name": "PERSONA_BF16", "value": str(mode)},
        )
    return value


def use_bf16(part: str, mode: str, device: str, flags: frozenset[str] | None = None) -> bool:
    """Whether ``part`` runs under CPU bf16 autocast on ``device`` with setting ``mode``."""
    value = check_mode(mode)
    if value == "off" or part not in BF16_PARTS or not str(device).startswith("cpu"):
        return False
    return value == "on" or fast_bf16(flags)
