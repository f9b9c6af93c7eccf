"""Check an untrusted voice model (``.pth``) and retrieval index (``.index``) before they enter the library.

Both checks run in a child process with CPU-time and memory limits (``persona.library.isolated``):
no file can hold the web process's GIL or grow it. The model is read by
``persona.rvc.voice_model.check_voice_model`` (the one ``torch.load(weights_only=True)``: a pickle
never runs code; every metadata entry bounded before it is read; the network its config describes
built on the meta device, bounded and compared strictly with the weights). The index is checked
whole by ``persona.rvc.index_file`` (a pure-Python walk of FAISS' layout that reads only the length
fields): every declared length must fit in the file, so the worker's ``faiss.read_index`` never
allocates more than the file holds. The index dimension must match the model version (v1 256,
v2 768), as RVC's pipeline requires. Messages name the file as the person knows it (``shown_as``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from persona.errors import PersonaError
from persona.library.isolated import run_isolated
from persona.rvc.formats import FEATURE_DIMS


def inspect_model(path: str | Path, shown_as: str | None = None) -> dict[str, Any]:
    """Check ``path`` in a limited child process (``persona.library.isolated``):
    ``{version, sample_rate, f0, info, n_speakers, f0_unvoiced, persona, warnings, embedder}``.

    ``f0_unvoiced`` is the model's f0 convention (``persona.rvc.record``; "zero" without a record),
    ``persona`` the record itself (None without one), ``warnings`` what was ignored (a foreign
    record). ``shown_as`` is the name the person knows the file by (messages use it instead of a
    staging name). Raises PersonaError ``model_invalid`` with a message a user can act on.
    """
    path = Path(path).resolve()
    name = shown_as or path.name
    result, _usage = run_isolated(model_facts, str(path), name, code="model_invalid", name=name)
    return result


def inspect_index(
    path: str | Path, version: str | None = None, shown_as: str | None = None
) -> dict[str, Any]:
    """Check a whole FAISS index file in a limited child process (``persona.rvc.index_file``:
    every declared length against the file's size, the lists against ``ntotal``, the dimension):
    ``{dim, ntotal}``; and ``dim`` against the model version."""
    path = Path(path).resolve()
    name = shown_as or path.name
    result, _usage = run_isolated(index_facts, str(path), version, name, code="index_invalid", name=name)
    return result


def model_facts(path: str, name: str) -> dict[str, Any]:
    """What ``inspect_model`` returns, computed here (in the child): the network is never built."""
    from persona.rvc.embedders import of_model
    from persona.rvc.voice_model import check_voice_model

    try:
        vm = check_voice_model(path)
    except PersonaError as exc:
        raise _renamed(exc, Path(path).name, name) from None
    except Exception as exc:  # noqa: BLE001 - any failure here means a bad file; its text is not shown
        raise PersonaError(
            "model_invalid",
            f"{name} is not a usable RVC voice model ({type(exc).__name__})",
            params={"file": name},
        ) from None
    return {
        "version": vm.version,
        "sample_rate": int(vm.tgt_sr),
        "f0": bool(vm.f0),
        "info": str(vm.info or "")[:2000],
        "n_speakers": int(vm.n_speakers),
        "f0_unvoiced": vm.record.f0_unvoiced,
        "persona": vm.record.to_dict() if vm.record.present else None,
        "warnings": list(vm.record.warnings),
        "embedder": of_model(vm.metadata, vm.record.to_dict()),  # an unknown encoder is refused here
    }


def index_facts(path: str, version: str | None, name: str) -> dict[str, Any]:
    """What ``inspect_index`` returns, computed here (in the child)."""
    from persona.rvc.index_file import check_index_file

    try:
        found = check_index_file(path)
    except PersonaError as exc:
        raise _renamed(exc, Path(path).name, name) from None
    dim, ntotal = found["dim"], found["ntotal"]
    if version is not None and dim != FEATURE_DIMS.get(version, dim):
        raise PersonaError(
            "index_invalid",
            f"{name} holds {dim}-dim features but the model is {version} ({FEATURE_DIMS[version]}-dim)",
            params={"file": name},
        )
    return {"dim": int(dim), "ntotal": int(ntotal)}


def _renamed(exc: PersonaError, internal: str, shown: str) -> PersonaError:
    """``exc`` with the person's name for the file instead of the staging name."""
    message = exc.message.replace(internal, shown) if internal != shown else exc.message
    return PersonaError(exc.code, message, exc.status, params={**exc.params, "file": shown})
