"""Check an untrusted voice model (``.pth``) and retrieval index (``.index``) before they enter the library.

The model is loaded with ``persona.rvc.checkpoint.load_voice_model`` (its one
``torch.load(weights_only=True)`` reader: a pickle can never run code) which builds the synthesizer from the file's ``config`` and loads the
weights strictly, so a config that disagrees with its weights is refused. The index is checked whole
by ``persona.rvc.index_file`` (a pure-Python walk of FAISS' layout that reads only the length
fields): every declared length must fit in the file, so no C++ parser runs on hostile bytes in
the web process and the worker's ``faiss.read_index`` never allocates more than the file holds.
The index dimension must match the model version (v1 256, v2 768), as RVC's pipeline requires.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from persona.errors import PersonaError

VERSION_DIMS = {"v1": 256, "v2": 768}


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
    """Check a whole FAISS index file (``persona.rvc.index_file``: every declared length against
    the file's size, the lists against ``ntotal``, the dimension): ``{dim, ntotal}``; and ``dim``
    against the model version."""
    from persona.rvc.index_file import check_index_file

    path = Path(path)
    found = check_index_file(path)
    dim, ntotal = found["dim"], found["ntotal"]
    if version is not None and dim != VERSION_DIMS.get(version, dim):
        raise PersonaError(
            "index_invalid",
            f"{path.name} holds {dim}-dim features but the model is {version} ({VERSION_DIMS[version]}-dim)",
        )
    return {"dim": int(dim), "ntotal": int(ntotal)}
