"""Stop inside a model call: torch modules look at the cancel token as they run.

A full-size training step takes ~12 s on a 2-core CPU and one HuBERT, RMVPE, synthesizer or
separator call over a long window seconds, so checks between calls leave a Stop waiting that
long (issue 25 item 3). Inside ``interruptible(cancel)`` every torch module called by this thread
checks the token before it runs (a global forward pre-hook), and every module output that will
get a gradient carries a tensor hook that checks it when ``backward`` reaches it: a Stop ends the
work within one layer. A stopped token raises what its ``check`` raises (``Cancelled``, or
``Superseded`` for an attempt another took over); the caller says what a stop there means (the
training loop goes back to its last save). The hooks only read the token, so no number changes;
they exist while some thread is inside a region and are removed after. The token is read on every
call, so it must answer cheaply (``AttemptToken`` reads the job store at most every 0.25 s).
Regions nest (a training's preview conversion runs inside the training's), and a backward hook
keeps the tokens of its forward, so it works on autograd's own threads too. Work outside torch
modules calls ``check()`` where it loops (decoding looks at every block); one long call nothing
reaches (FAISS) runs ``outside`` this thread, which stops waiting for it on a Stop; the rest
(a pyworld or ONNX call over seconds of audio) is looked at between calls.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from persona.progress import NEVER_CANCELLED, CancelToken

_local = threading.local()  # .tokens: the tokens of this thread's open regions (a tuple)
_lock = threading.Lock()
_regions = 0  # open regions in every thread; the global hooks exist while > 0
_handles: list = []
_MARK = "_persona_watched"  # on a tensor that already carries the backward check
torch: Any = None  # imported when the first region opens: importing this module stays light
T = TypeVar("T")


def _check(tokens: tuple[CancelToken, ...]) -> None:
    for token in tokens:
        token.check()


def _before(module: Any, args: tuple) -> None:
    tokens = getattr(_local, "tokens", None)
    if tokens:
        _check(tokens)


def _after(module: Any, args: tuple, output: object) -> None:
    tokens = getattr(_local, "tokens", None)
    if tokens and torch.is_grad_enabled():
        _watch(output, tokens, depth=0)


def _watch(output: object, tokens: tuple[CancelToken, ...], depth: int) -> None:
    """Hang the check on each tensor of ``output`` that backward will reach (once per tensor)."""
    if isinstance(output, torch.Tensor):
        # Not on a leaf (a parameter): its hooks would outlive the region and this token.
        if output.grad_fn is not None and not getattr(output, _MARK, False):
            output.register_hook(lambda _grad: _check(tokens))  # returns None: the gradient is kept
            setattr(output, _MARK, True)
    elif isinstance(output, (tuple, list)) and depth < 2:
        for item in output:
            _watch(item, tokens, depth + 1)


def _open() -> None:
    global _regions, torch
    with _lock:
        _regions += 1
        if _regions == 1:
            import torch as _torch
            from torch.nn.modules import module

            torch = _torch
            _handles.append(module.register_module_forward_pre_hook(_before))
            _handles.append(module.register_module_forward_hook(_after))


def _close() -> None:
    global _regions
    with _lock:
        _regions -= 1
        if _regions == 0:
            while _handles:
                _handles.pop().remove()


@contextlib.contextmanager
def interruptible(cancel: CancelToken | None) -> Iterator[None]:
    """While inside, a stop of ``cancel`` raises from the next torch module this thread calls (or
    the next gradient backward computes for one). ``None``/``NEVER_CANCELLED``: nothing is added."""
    if cancel is None or cancel is NEVER_CANCELLED:
        yield
        return
    outer = getattr(_local, "tokens", ())
    _open()
    _local.tokens = outer if cancel in outer else (*outer, cancel)
    try:
        yield
    finally:
        _local.tokens = outer
        _close()


def outside(fn: Callable[[], T], cancel: CancelToken | None, every_s: float = 0.05) -> T:
    """``fn()``, one long call no hook reaches (FAISS training an index: tens of seconds for an
    hour of voice), in a helper thread while this one looks at ``cancel`` (and this thread's
    regions) every ``every_s``: a Stop raises here at once. The call itself cannot be stopped; it
    runs on in the background and its result is dropped, so ``fn`` must write nothing."""
    tokens = getattr(_local, "tokens", ())
    if cancel is not None and cancel not in tokens:
        tokens = (*tokens, cancel)
    if not tokens or tokens == (NEVER_CANCELLED,):
        return fn()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            box["error"] = exc

    helper = threading.Thread(target=run, daemon=True, name="persona-outside")
    helper.start()
    while helper.is_alive():
        _check(tokens)
        helper.join(every_s)
    _check(tokens)  # a Stop that came while the call was finishing: its result is not wanted
    if "error" in box:
        raise box["error"]
    return box["value"]


def check() -> None:
    """For long work outside torch modules (decoding a file block by block): raise as the hooks
    would when a token of this thread's open regions says stop. Outside a region: nothing."""
    tokens = getattr(_local, "tokens", None)
    if tokens:
        _check(tokens)


def active() -> bool:
    """Whether this thread is inside a region (tests, benchmarks)."""
    return bool(getattr(_local, "tokens", ()))
