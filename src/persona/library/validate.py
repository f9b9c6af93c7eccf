"""Check an untrusted voice model (``.pth``) and retrieval index (``.index``) before they enter the library.

The model is loaded with ``persona.rvc.checkpoint.load_voice_model`` (``torch.load(weights_only=True)``:
a pickle can never run code) which builds the synthesizer from the file's ``config`` and loads the
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
_SAMPLE_RATES = {"32k": 32000, "40k": 40000, "48k": 48000}
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
    """Load ``path`` safely and return ``{version, sample_rate, f0, info, n_speakers}``.

    Raises PersonaError ``model_invalid`` with a message a user can act on.
    """
    path = Path(path)
    try:
        from persona.rvc.checkpoint import load_voice_model
    except ImportError:  # the engine has not landed in this checkout: a weights-only check
        return _inspect_model_weights_only(path)
    try:
        vm = load_voice_model(path, device="cpu")
    except PersonaError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure here means a bad file
        raise PersonaError("model_invalid", f"{path.name} is not a usable RVC voice model ({exc})") from exc
    return {
        "version": vm.version,
        "sample_rate": int(vm.tgt_sr),
        "f0": bool(vm.f0),
        "info": str(vm.info or ""),
        "n_speakers": int(getattr(vm, "n_speakers", 1) or 1),
    }


def _inspect_model_weights_only(path: Path) -> dict[str, Any]:
    import torch

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001
        raise PersonaError(
            "model_invalid",
            f"{path.name} is not a safe RVC model file (it could not be read as plain weights)",
        ) from exc
    if not isinstance(ckpt, dict) or "weight" not in ckpt or "config" not in ckpt:
        if isinstance(ckpt, dict) and "model" in ckpt:
            raise PersonaError(
                "model_invalid",
                f"{path.name} is a training checkpoint (G_*/D_*), not an exported voice model",
            )
        raise PersonaError("model_invalid", f"{path.name} is not an RVC voice model (no weight/config)")
    weight, config = ckpt["weight"], ckpt["config"]
    if not isinstance(weight, dict) or not isinstance(config, (list, tuple)) or len(config) < 17:
        raise PersonaError("model_invalid", f"{path.name} has a malformed config")
    version = str(ckpt.get("version", "v1"))
    if version not in VERSION_DIMS:
        raise PersonaError("model_invalid", f"{path.name} has an unknown version {version!r}")
    f0 = bool(int(ckpt.get("f0", 1)))
    emb = weight.get("enc_p.emb_phone.weight")
    if emb is None or tuple(emb.shape) != (int(config[3]), VERSION_DIMS[version]):
        raise PersonaError("model_invalid", f"{path.name}: its weights do not match its config ({version})")
    if f0 != ("enc_p.emb_pitch.weight" in weight):
        raise PersonaError("model_invalid", f"{path.name}: its f0 flag does not match its weights")
    spk = weight.get("emb_g.weight")
    if spk is None or tuple(spk.shape) != (int(config[-3]), int(config[-2])):
        raise PersonaError("model_invalid", f"{path.name}: its speaker embedding does not match its config")
    sr = config[-1] if isinstance(config[-1], int) else _SAMPLE_RATES.get(str(ckpt.get("sr")), 0)
    if int(sr) not in (32000, 40000, 48000):
        raise PersonaError("model_invalid", f"{path.name} has an unsupported sample rate {sr}")
    return {
        "version": version,
        "sample_rate": int(sr),
        "f0": f0,
        "info": str(ckpt.get("info", "")),
        "n_speakers": int(spk.shape[0]),
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
