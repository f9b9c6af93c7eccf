"""Run the check of an untrusted file in a child process with CPU-time and memory limits.

A model or index file is parsed by code that trusts more of it than it should (pickle rebuilds
whatever object graph the file describes, FAISS allocates what a header claims). Checked in the
web process, one crafted file could hold the GIL for minutes or grow the process until it is
killed, taking every other request with it (issue 24). Here the check runs in a child: the calling
thread only waits on a pipe, and the child gets ``RLIMIT_CPU`` and ``RLIMIT_AS`` (its address
space now plus a budget), so the worst a file can do is be refused.

Children fork from a ``multiprocessing`` forkserver that has imported torch and the checks and run
them once (``isolated_preload``; a fresh interpreter would spend seconds importing torch for every
upload); the forkserver starts on the first check (or earlier, ``start_early``) and lives as long
as the process (~240 MB). At most ``CONCURRENT`` checks run at once;
more wait their turn. The child reports its own peak memory growth and CPU time (``Usage``), which
the hostile-file tests bound.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import resource
import signal
import threading
from collections.abc import Callable
from typing import Any

from persona.errors import PersonaError

CONCURRENT = 2
MEMORY_MB = 1024  # the largest honest check (a 48k G_*.pth with its optimizer, mapped) uses ~500
CPU_S = 20  # an honest check takes 1-3 s of CPU; hostile files are refused in well under 2
WALL_S = 120.0  # CPU time is the bound; this only catches a child that waits on nothing
PRELOAD = ["persona.library.isolated_preload"]

_slots = threading.BoundedSemaphore(CONCURRENT)
_start_lock = threading.Lock()
_context: Any = None


def _forget_inherited_forkserver() -> None:
    """In a process forked from one that had started the forkserver (gunicorn forks its workers
    from a master that may have checked a file while building the home), the inherited
    forkserver is not this process's child: forget it (and any lock another thread held at the
    fork), so the first check here starts its own instead of failing in ``waitpid``."""
    global _slots, _start_lock
    _slots = threading.BoundedSemaphore(CONCURRENT)
    _start_lock = threading.Lock()
    from multiprocessing import forkserver

    server = forkserver._forkserver
    alive_fd = getattr(server, "_forkserver_alive_fd", None)
    server._forkserver_pid = None
    server._forkserver_address = None
    server._forkserver_alive_fd = None
    server._lock = threading.Lock()
    if alive_fd is not None:
        with contextlib.suppress(OSError):
            os.close(alive_fd)


os.register_at_fork(after_in_child=_forget_inherited_forkserver)


@dataclasses.dataclass(frozen=True)
class Usage:
    """What the check cost in the child: peak resident growth and CPU seconds."""

    rss_growth_mb: float
    cpu_s: float


def _ctx() -> Any:
    global _context
    with _start_lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _context = ctx
        return _context


def start_early() -> None:
    """Start the forkserver now, in the background: a long job whose end adds a file (a training's
    model, also after a Stop) then does not wait the seconds its start takes (torch imported)."""

    def start() -> None:
        from multiprocessing import forkserver

        _ctx()
        with contextlib.suppress(Exception):  # the first check starts it (and reports) otherwise
            forkserver.ensure_running()

    threading.Thread(target=start, daemon=True, name="isolated-forkserver").start()


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _limit(memory_mb: int, cpu_s: int) -> None:
    """Bound this (child) process: address space = what it maps now + ``memory_mb``; CPU seconds."""
    extra = memory_mb << 20
    mapped = _status_kb("VmSize") << 10
    resource.setrlimit(resource.RLIMIT_AS, (mapped + extra, mapped + extra))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 2))
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")  # reset the peak-RSS mark (VmHWM) to now: growth is the check's own
    except OSError:
        pass
    try:
        import torch

        torch.set_num_threads(1)  # no thread pool (and its reserved stacks) for a file check
    except ImportError:
        pass


def _child(conn: Any, func: Callable[..., Any], args: tuple[Any, ...], memory_mb: int, cpu_s: int) -> None:
    _limit(memory_mb, cpu_s)
    rss0 = _status_kb("VmRSS")

    def usage() -> Usage:
        own = resource.getrusage(resource.RUSAGE_SELF)
        growth = max(0, _status_kb("VmHWM") - rss0) / 1024
        return Usage(rss_growth_mb=round(growth, 1), cpu_s=round(own.ru_utime + own.ru_stime, 3))

    try:
        result = func(*args)
        reply: tuple[Any, ...] = ("ok", result)
    except PersonaError as exc:
        reply = ("error", exc.code, exc.message, exc.status, exc.params)
    except MemoryError:
        reply = ("memory",)
    except RecursionError:
        reply = ("crash", "RecursionError")
    except Exception as exc:  # noqa: BLE001 - reported as the file's fault, by type only
        reply = ("crash", type(exc).__name__)
    try:
        conn.send((*reply, usage()))
    except MemoryError:
        conn.send(("memory", usage()))


def run_isolated(
    func: Callable[..., Any],
    *args: Any,
    code: str,
    name: str,
    memory_mb: int = MEMORY_MB,
    cpu_s: int = CPU_S,
    wall_s: float = WALL_S,
    on_usage: Callable[[Usage], None] | None = None,
) -> tuple[Any, Usage | None]:
    """``func(*args)`` in a limited child: ``(result, usage)``. A ``PersonaError`` raised there is
    raised here; running out of memory, CPU time or wall time, or dying, becomes
    ``PersonaError(code)`` naming ``name`` (the person's file) and the limit. ``func`` must be a
    module-level function and its arguments and result picklable. ``on_usage`` receives what
    the child reported about itself, refused or not (tests and benchmarks).

    In a daemonic process (a job worker's pool, which may not have children) the check runs
    in place: there the files are Persona's own (a training's export, a merge of library models)
    and no request thread waits on it."""
    if multiprocessing.current_process().daemon:
        return func(*args), None
    ctx = _ctx()
    with _slots:
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(child, func, args, memory_mb, cpu_s), daemon=True)
        proc.start()
        child.close()
        reply, timed_out = None, False
        try:
            timed_out = not parent.poll(wall_s)
            if not timed_out:
                reply = parent.recv()
        except (EOFError, OSError):
            reply = None  # the child died before answering: its exit code says how
        finally:
            parent.close()
            if reply is None and timed_out:
                proc.kill()
            proc.join(10)
    if reply is None:
        raise _died(None if timed_out else proc.exitcode, code, name, memory_mb, cpu_s, wall_s)
    kind, usage = reply[0], reply[-1]
    if on_usage is not None:
        on_usage(usage)
    if kind == "ok":
        return reply[1], usage
    if kind == "error":
        _, err_code, message, status, params, _ = reply
        raise PersonaError(err_code, message, status, params=params)
    if kind == "memory":
        raise _too_costly(code, name, f"more than {memory_mb} MB of memory", {"limit_mb": memory_mb})
    raise PersonaError(code, f"{name}: it could not be read ({reply[1]})", params={"file": name})


def _too_costly(code: str, name: str, what: str, params: dict[str, Any]) -> PersonaError:
    return PersonaError(
        code,
        f"{name}: checking it needed {what}; no real model file does, so it was refused",
        params={"file": name, **params},
    )


def _died(
    exitcode: int | None, code: str, name: str, memory_mb: int, cpu_s: int, wall_s: float
) -> PersonaError:
    if exitcode is None:
        return _too_costly(code, name, f"more than {wall_s:g} s", {"limit_s": wall_s})
    if exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
        return _too_costly(code, name, f"more than {cpu_s} s of CPU time", {"limit_s": cpu_s})
    # An allocation beyond RLIMIT_AS inside C++ aborts (std::bad_alloc) or faults.
    return _too_costly(code, name, f"more than {memory_mb} MB of memory", {"limit_mb": memory_mb})
