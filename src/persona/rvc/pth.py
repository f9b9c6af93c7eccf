"""Reading ``.pth`` files: the one ``torch.load`` in Persona, and the first checks of what it gives.

``read_checkpoint`` is the single ``torch.load(weights_only=True)`` (a file that carries pickled
code is refused, nothing in it runs) with one error wording; every other module reads ``.pth``
files through it. Before torch reads a zip-format file its archive is checked (torch never
compresses members: a compressed one is the shape of a zip bomb); zip files are mapped, not read,
so tensors cost memory only when something touches them, after their sizes were checked.
``tensor_dict`` takes a weight dict apart without printing anything from it (issue 24: an
untrusted key or value is never ``repr``-ed) and bounds its total size (``MAX_PARAMETERS``).
"""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from persona.errors import PersonaError
from persona.rvc.nn.weightnorm import canonical_weight_names
from persona.rvc.plain_data import check_tensor_dict

__all__ = ["MAX_PARAMETERS", "invalid", "read_checkpoint", "tensor_dict", "unwrap"]

# The largest real RVC network is v2 48k with its posterior encoder (a G_*.pth): 37,638,466
# parameters (v2 40k exported: 27.5 M). Twice that covers any honest variant; beyond it a file
# is a memory attack (a "valid" config with 100,000 speakers x 2048 channels is 205 M).
MAX_PARAMETERS = 2 * 37_638_466


def invalid(path: Path | str, problem: str, code: str = "model_invalid") -> PersonaError:
    """The one wording of a bad model file: ``<file name>: <problem>``."""
    return PersonaError(code, f"{Path(path).name}: {problem}")


def read_checkpoint(path: str | os.PathLike[str], *, code: str = "model_invalid", mmap: bool = True) -> Any:
    """The one ``torch.load`` of a ``.pth`` in Persona: ``weights_only=True`` on the CPU.

    ``mmap`` (zip-format files): tensors are mapped copy-on-write and read when touched; pass
    False for files whose tensors become live training state (optimizer moments).

    Every failure is one ``PersonaError(code)`` naming the file and the problem, in one wording
    (``code`` says what the file was meant to be: ``model_invalid``, ``checkpoint_invalid``).
    """
    path = Path(path)

    def bad(problem: str) -> PersonaError:
        return invalid(path, problem, code)

    if not path.is_file():
        raise bad("no such file")
    if path.stat().st_size == 0:
        raise bad("the file is empty")
    is_zip = _check_archive(path, bad)
    try:  # mapped: a tensor's bytes are read when touched, after its size was checked
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap and is_zip)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if "GLOBAL" in text or "global" in text or "blocked" in text:
            raise bad(
                "the file contains pickled Python objects other than plain weights (such as code); "
                "it was refused for safety and nothing in it was run",
            ) from None
        raise bad("not a PyTorch model file, or it is truncated or corrupt") from None
    except MemoryError:
        raise bad("reading it needs more memory than any model file") from None
    except Exception:  # noqa: BLE001 - torch raises many types for malformed files
        if is_zip:
            try:
                with zipfile.ZipFile(path) as zf:
                    names = zf.namelist()
            except (zipfile.BadZipFile, OSError):
                names = []
            if not any(n.endswith("data.pkl") for n in names):
                raise bad("a zip archive, not a PyTorch model file (.pth)") from None
        raise bad("not a PyTorch model file, or it is truncated or corrupt") from None


def _check_archive(path: Path, bad: Callable[[str], PersonaError]) -> bool:
    """torch writes its zip format uncompressed: a compressed member (a zip bomb inflating to more
    than the file holds) is refused before torch reads it. True for a zip-format file."""
    if not zipfile.is_zipfile(path):
        return False  # torch's legacy format: storages are read from the file itself
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise bad("not a PyTorch model file, or it is truncated or corrupt") from None
    size = path.stat().st_size
    total = 0
    for info in infos:
        total += info.file_size
        if info.compress_type != zipfile.ZIP_STORED or info.file_size != info.compress_size:
            raise bad("it holds compressed data, which PyTorch never writes; it was refused")
    if total > size:
        raise bad("its archive declares more data than the file holds")
    return True


def tensor_dict(
    path: Path, obj: Any, entry: str, *, limit: int = MAX_PARAMETERS, code: str = "model_invalid"
) -> dict[str, torch.Tensor]:
    """``obj`` (a checkpoint's ``weight`` or ``model`` entry) as canonical weight names to
    floating-point tensors, bounded: at most ``limit`` values in all, each tensor within its own
    storage (a stride-0 "expanded" tensor claims more values than its file holds)."""

    def bad(problem: str) -> PersonaError:
        return invalid(path, problem, code)

    check_tensor_dict(obj, entry, bad)
    out: dict[str, torch.Tensor] = {}
    total = 0
    for key, value in obj.items():
        if not value.is_floating_point():
            raise bad(f"weight {key} is not a floating-point tensor ({value.dtype})")
        count = value.numel()
        total += count
        if total > limit:
            raise bad(f"it holds more than {limit:,} weights, far more than any RVC network")
        needed = (value.storage_offset() + _span(value)) * value.element_size()
        if needed > value.untyped_storage().nbytes():
            raise bad(f"weight {key} claims more values than the file stores for it")
        out[key] = value
    if all(k.startswith("module.") for k in out):  # saved from a DistributedDataParallel wrapper
        out = {k[len("module.") :]: v for k, v in out.items()}
    return canonical_weight_names(out)


def _span(t: torch.Tensor) -> int:
    """Elements of its storage a tensor needs: 1 + its largest offset, or its ``numel`` when that
    is more (a stride-0 "expanded" or self-overlapping tensor claims values its file never held)."""
    if t.numel() == 0:
        return 0
    reach = 1 + sum((n - 1) * s for n, s in zip(t.shape, t.stride(), strict=True))
    return max(reach, t.numel())


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside a DistributedDataParallel or ``torch.compile`` wrapper."""
    model = getattr(model, "module", model)  # DistributedDataParallel
    return getattr(model, "_orig_mod", model)  # torch.compile


def plain_metadata(ckpt: Mapping[str, Any], skip: tuple[str, ...]) -> dict[str, Any]:
    """The checkpoint's entries other than ``skip`` (already bounded by ``plain_data``)."""
    return {k: v for k, v in ckpt.items() if k not in skip and isinstance(k, str)}
