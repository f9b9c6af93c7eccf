"""Check an untrusted voice model (``.pth``) and retrieval index (``.index``) before they enter the library.

The model is loaded with ``persona.rvc.checkpoint.load_voice_model`` (its one
``torch.load(weights_only=True)`` reader: a pickle can never run code) which builds the synthesizer from the file's ``config`` and loads the
weights strictly, so a config that disagrees with its weights is refused. The index is checked by
reading the FAISS header only (``fourcc``, ``d``, ``ntotal`` as FAISS' ``write_index_header``
writes them): cheap for a large file, and no C++ parser runs on hostile bytes in the web process.
The index dimension must match the model version (v1 256, v2 768), as RVC's pipeline requires.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from persona.errors import PersonaError

VERSION_DIMS = {"v1": 256, "v2": 768}
# FAISS float index types RVC writes (IVF flat) and the other common ones.
_FAISS_FOURCCS = {
    b"IwFl",
    b"IwF2",
    b"IxFI",
    b"IxF2",
    b"IxFl",
    b"IwSq",
    b"IwPQ",
    b"IHNf",
    b"IxHe",
    b"IwSh",
    b"IxMp",
}


def inspect_model(path: str | Path) -> dict[str, Any]:
    """Load ``path`` safely: ``{version, sample_rate, f0, info, n_speakers, f0_unvoiced, persona, warnings}``.

    ``f0_unvoiced`` is the model's f0 convention (``persona.rvc.record``; "zero" without a record),
    ``persona`` the record itself (None without one), ``warnings`` what was ignored (a foreign
    record). Raises PersonaError ``model_invalid`` with a message a user can act on.
    """
    from persona.rvc.checkpoint import load_voice_model

    path = Path(path)
    try:
        vm = load_voice_model(path, device="cpu")
    except PersonaError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure here means a bad file
        raise PersonaError("model_invalid", f"{path.name} is not a usable RVC voice model ({exc})") from exc
    from persona.rvc.embedders import of_model

    return {
        "version": vm.version,
        "sample_rate": int(vm.tgt_sr),
        "f0": bool(vm.f0),
        "info": str(vm.info or ""),
        "n_speakers": int(getattr(vm, "n_speakers", 1) or 1),
        "f0_unvoiced": vm.f0_unvoiced,
        "persona": vm.record.to_dict() if vm.record.present else None,
        "warnings": list(vm.record.warnings),
        "embedder": of_model(
            vm.metadata, vm.record.to_dict()
        ),  # an encoder Persona does not know is refused here
    }


def inspect_index(path: str | Path, version: str | None = None) -> dict[str, Any]:
    """Read a FAISS index header: ``{dim, ntotal}``; check ``dim`` against the model version."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(20)
    if len(head) < 20 or head[:4] not in _FAISS_FOURCCS:
        raise PersonaError("index_invalid", f"{path.name} is not a FAISS index file")
    dim, ntotal = struct.unpack("<iq", head[4:16])
    if dim not in VERSION_DIMS.values() or ntotal < 0:
        raise PersonaError(
            "index_invalid", f"{path.name} has feature size {dim}; RVC indexes have 256 or 768"
        )
    if version is not None and dim != VERSION_DIMS.get(version, dim):
        raise PersonaError(
            "index_invalid",
            f"{path.name} holds {dim}-dim features but the model is {version} ({VERSION_DIMS[version]}-dim)",
        )
    return {"dim": int(dim), "ntotal": int(ntotal)}
