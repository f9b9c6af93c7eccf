"""Process-wide runtime tuning for the engines: how the C allocator serves torch's tensors.

torch's CPU tensors come straight from ``malloc``. glibc serves every block above its mmap
threshold (128 KiB, raised dynamically to at most 32 MiB) with a fresh ``mmap`` and gives it back
with ``munmap`` on free, so each large activation is faulted in again page by page and zeroed by
the kernel. The synthesizer's decoder holds 200 MB activations for a 40 s window and allocates a
new one for almost every op: measured on this project's 2-core CPU, one 10 s decode cost 15 CPU-s
of user time plus 8-11 s of *system* time (page faults), and 0.2-0.8 s of system time once glibc
keeps those pages (the same 30 % system-time share shows up in a whole cover, separation included).

``tune_allocator`` tells glibc to serve large blocks from its heap (``M_MMAP_MAX = 0``) and to
return freed heap memory to the system only beyond ``TRIM_THRESHOLD`` (``M_TRIM_THRESHOLD``), so
a later window reuses pages that are already mapped. Numerics are untouched. ``release_memory``
(``malloc_trim``) hands idle pages back after a job. Both are no-ops off glibc and can be turned
off with ``PERSONA_TUNE_MALLOC=0`` (for measuring the difference).

oneDNN (torch's CPU convolutions) keeps every primitive it JIT-compiles, with its scratchpad, in
an LRU cache of 1024 entries by default. A conversion meets new input lengths in every window
(every window and piece has its own length), so that cache grew by ~350 MB per 60 s cover piece
and took a 10-minute cover's conversion to 5.3 GB. ``limit_primitive_cache`` bounds it to
``PRIMITIVE_CACHE`` entries (more than one window's worth, so a window's chunks still reuse their
primitives) through ``ONEDNN_PRIMITIVE_CACHE_CAPACITY``, which oneDNN reads when it creates its
first primitive: this module sets it when imported (``persona`` imports it first) unless the
environment already names a value.

torch's CPU threads are an OpenMP team (GNU libgomp). Between parallel regions libgomp's idle
threads spin-wait for the next one, 300,000 rounds by default (``GOMP_SPINCOUNT``), before they
sleep. A conversion opens thousands of regions (6,621 for loading the models and converting a 5 s
vocal twice), so on a loaded machine the spinning thread burns the CPU that the thread it waits
for needs (53 % of a conversion's samples under load were in that loop). Measured on this
project's 2-core EPYC at load ~12: a 30 s conversion cost 81.5 CPU-s warm with the default and 49
with ``OMP_WAIT_POLICY=PASSIVE``, and finished sooner (300-360 s wall against 460); on an idle
machine sleeping threads cost ~11 % wall (a wake-up per region). ``limit_spin_wait`` sets a short
spin (``GOMP_SPINCOUNT=SPIN_COUNT``) when imported, before torch loads libgomp (which reads it
once), unless the environment already names a wait policy or spin count; ``PERSONA_OMP_PASSIVE=0``
leaves libgomp's default. Numerics are untouched (the same work, only how idle threads wait).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading

log = logging.getLogger(__name__)

# glibc's mallopt parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
# Free memory kept at the top of the heap before it is returned: about one decoder chunk's
# working set (persona.rvc.nn.generators.INFER_CHUNK_FRAMES), so consecutive ops and chunks reuse
# mapped pages. Measured on a 41 s full-size 40k decode (500-frame chunks, 2 threads): 1.3 s of
# system time and 635 MiB peak at 128 MiB; 6.2 s at 32 MiB; 1 GiB kept up to a GiB of garbage
# resident between stages (a 3:30 cover peaked at 6-8.8 GB).
TRIM_THRESHOLD = 128 << 20

# oneDNN primitives kept (see the module doc): the decoder's chunk loop cycles through ~85.
# Measured on three 50 s cover pieces: peak 3.7 GB at 1024 (the default), 3.1 at 256, 2.5 at 128;
# CPU time equal within run-to-run spread (292-312 CPU-s).
PRIMITIVE_CACHE = 128
_ONEDNN_CACHE_ENV = "ONEDNN_PRIMITIVE_CACHE_CAPACITY"

_lock = threading.Lock()


def limit_primitive_cache() -> str:
    """Bound oneDNN's primitive cache (effective before torch's first convolution); the value."""
    return os.environ.setdefault(_ONEDNN_CACHE_ENV, str(PRIMITIVE_CACHE))


limit_primitive_cache()

_OMP_WAIT_ENV = "OMP_WAIT_POLICY"
_OMP_SPIN_ENV = "GOMP_SPINCOUNT"
# How long an idle OpenMP thread spins before it sleeps (libgomp's default: 300000 rounds; 0 with
# OMP_WAIT_POLICY=PASSIVE). A 30 s conversion, 2 threads, 2-core EPYC (benchmarks/README "idle
# OpenMP threads"): loaded (load 12-15) 81.5 CPU-s spinning, 53.6 at 10000, 48.6 sleeping; idle
# (load < 2) warm 30.1 s wall spinning, 29.7 at 10000, 33.5 sleeping (a wake-up per parallel
# region). A short spin keeps the idle speed and most of the loaded saving.
SPIN_COUNT = 10000


def limit_spin_wait() -> str | None:
    """Idle OpenMP threads spin briefly, then sleep (effective before torch is imported); the spin
    count now in the environment, None when left to libgomp. A user's own wait policy or spin
    count wins; ``PERSONA_OMP_PASSIVE=0`` leaves libgomp's default."""
    off = os.environ.get("PERSONA_OMP_PASSIVE", "1").strip().lower() in ("0", "false", "no", "off")
    if off or _OMP_WAIT_ENV in os.environ:
        return os.environ.get(_OMP_SPIN_ENV)
    return os.environ.setdefault(_OMP_SPIN_ENV, str(SPIN_COUNT))


limit_spin_wait()
_state: dict[str, bool] = {}


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def enabled() -> bool:
    return os.environ.get("PERSONA_TUNE_MALLOC", "1").strip().lower() not in ("0", "false", "no", "off")


def tune_allocator() -> bool:
    """Keep large blocks on glibc's heap (once per process; inherited by forked workers).

    Returns True when the allocator is (now) tuned.
    """
    with _lock:
        if "tuned" in _state:
            return _state["tuned"]
        tuned = False
        libc = _libc() if enabled() else None
        if libc is not None:
            ok_mmap = libc.mallopt(_M_MMAP_MAX, 0) == 1
            ok_trim = libc.mallopt(_M_TRIM_THRESHOLD, ctypes.c_int(min(TRIM_THRESHOLD, 2**31 - 1))) == 1
            tuned = ok_mmap and ok_trim
            if not tuned:
                log.warning("could not tune the C allocator (mallopt refused); large tensors stay mmapped")
        _state["tuned"] = tuned
        return tuned


def release_memory() -> None:
    """Give idle heap pages back to the system (after a job; cheap, numerics untouched)."""
    if not _state.get("tuned"):
        return
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
