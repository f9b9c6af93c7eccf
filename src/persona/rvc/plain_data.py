"""Bounded checks of the plain data in an untrusted model file, before anything walks it.

``torch.load(weights_only=True)`` runs no code, but it still rebuilds whatever lists, tuples and
dicts the pickle describes, with shared references: a 1 MB file can hold a list that refers to
the list below it twice, level by level ("billion laughs"). Its unfolded size is 2**depth, so
``str()``, ``repr()``, ``json.dumps`` or a recursive comparison of it runs for minutes holding
the GIL. Every entry of a loaded checkpoint other than its tensors goes through ``check_entries``
first: known keys get their type, every value a budget of visited items (shared references are
counted each time they are reached, so the unfolded size is what is bounded), a depth and a
string length. Only then may messages, metadata or the library touch them.

Error texts here never include the untrusted value itself, only its type name and the key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from persona.errors import PersonaError

MAX_ITEMS = 4096  # visited items per entry (RVC's config has 18, Applio's metadata a few)
MAX_DEPTH = 8
MAX_STR = 16_384  # characters in one string (an ``info`` line, an author name)
MAX_KEY = 256  # characters in one key (weight names are under 80)
MAX_ENTRIES = 64  # top-level keys of a checkpoint (RVC writes 6, Applio about 15)
MAX_TENSORS = 4096  # tensors in a weight dict (a v2 48k generator has 460)

# Types of the entries Persona reads; any other key only has to be bounded plain data.
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "info": (str, type(None)),
    "version": (str,),
    "sr": (str, int),
    "f0": (int, str),  # bool is an int
    "config": (list, tuple),
    "embedder_model": (str, type(None)),
    "vocoder": (str, type(None)),
    "iteration": (int,),
    "learning_rate": (float, int),
}

Bad = Callable[[str], PersonaError]


def _visit(value: Any, key: str, bad: Bad) -> None:
    left = MAX_ITEMS
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        left -= 1
        if left < 0:
            raise bad(f"its '{key}' entry is larger or more deeply shared than any model's metadata")
        if item is None or isinstance(item, (bool, float)):
            continue
        if isinstance(item, int):
            if item.bit_length() > 64:
                raise bad(f"its '{key}' entry holds an integer too large to be real")
            continue
        if isinstance(item, str):
            if len(item) > MAX_STR:
                raise bad(f"its '{key}' entry holds a string of {len(item)} characters")
            continue
        if not isinstance(item, (list, tuple, dict)):
            raise bad(f"its '{key}' entry holds a {type(item).__name__}, not plain data")
        if depth >= MAX_DEPTH or len(item) > left:
            raise bad(f"its '{key}' entry is larger or more deeply shared than any model's metadata")
        if isinstance(item, dict):
            for k in item:
                if not isinstance(k, (str, int)) or isinstance(k, str) and len(k) > MAX_KEY:
                    raise bad(f"its '{key}' entry has a key that is not a short string")
            stack.extend((v, depth + 1) for v in item.values())
        else:
            stack.extend((v, depth + 1) for v in item)


def check_plain(value: Any, key: str, bad: Bad) -> None:
    """``value`` is None, bool, int, float, str, or a list/tuple/dict of those within the budgets
    (``bad(problem)`` makes the error); its known type first when ``key`` is in ``FIELD_TYPES``."""
    wanted = FIELD_TYPES.get(key)
    if wanted is not None and not isinstance(value, wanted):
        names = " or ".join(t.__name__ for t in wanted if t is not type(None))
        raise bad(f"its '{key}' entry is a {type(value).__name__}, not a {names}")
    _visit(value, key, bad)


def check_tensor_dict(obj: Any, key: str, bad: Bad) -> None:
    """``obj`` is a dict of at most ``MAX_TENSORS`` short string keys to tensors (checked by type
    only: nothing in it is printed or compared yet)."""
    import torch

    if not isinstance(obj, Mapping) or not obj:
        raise bad(f"its '{key}' entry is not a dictionary of weights")
    if len(obj) > MAX_TENSORS:
        raise bad(f"its '{key}' entry holds {len(obj)} tensors; RVC models hold under 1000")
    for name, value in obj.items():
        if not isinstance(name, str) or len(name) > MAX_KEY:
            raise bad(f"its '{key}' entry holds something other than named tensors (a long or non-text name)")
        if not isinstance(value, torch.Tensor):
            raise bad(
                f"its '{key}' entry holds something other than named tensors (a {type(value).__name__})"
            )


def check_entries(ckpt: Any, bad: Bad, *, tensors: tuple[str, ...], skip: tuple[str, ...] = ()) -> None:
    """The top level of a loaded checkpoint: a dict of at most ``MAX_ENTRIES`` string keys; the
    ``tensors`` entries present are weight dicts, ``skip`` entries are left alone (never read),
    every other entry is bounded plain data."""
    check_top(ckpt, bad)
    for key, value in ckpt.items():
        if key in skip:
            continue
        if key in tensors:
            check_tensor_dict(value, key, bad)
        else:
            check_plain(value, key, bad)


def check_top(ckpt: Any, bad: Bad) -> None:
    """The top level alone: a dict of at most ``MAX_ENTRIES`` short string keys."""
    if not isinstance(ckpt, dict):
        raise bad(f"not an RVC voice model (the file holds a {type(ckpt).__name__})")
    if len(ckpt) > MAX_ENTRIES:
        raise bad(f"it has {len(ckpt)} top-level entries; RVC models have under 20")
    for key in ckpt:
        if not isinstance(key, str) or len(key) > MAX_KEY:
            raise bad("it has a top-level key that is not a short string")
