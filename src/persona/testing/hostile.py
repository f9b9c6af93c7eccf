"""Crafted hostile model files (tests and benchmarks): a ``.pth`` whose config claims a huge
network, a compressed ``.pth`` member, ``.index`` files with a wrong length field or an absurd
``ntotal``; and ``refusal_in_child`` that checks one in a fresh process and reports its peak RSS
growth and time, so memory is measured on the check alone."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

_CHILD = r"""
import json, resource, sys, time
kind, path = sys.argv[1], sys.argv[2]
import torch, faiss  # noqa: F401 - loaded before the baseline: the check, not the imports, is measured
from persona.errors import PersonaError
from persona.library.validate import inspect_index, inspect_model
from persona.rvc.index import load_index
check = {"model": inspect_model, "index": inspect_index, "load_index": load_index}[kind]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, t0_cpu = time.perf_counter(), time.process_time()
try:
    check(path)
    code = None
except PersonaError as exc:
    code, message = exc.code, exc.message
wall, cpu = time.perf_counter() - t0, time.process_time() - t0_cpu
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"code": code, "message": code and message, "rss_growth_mb": (after - before) / 1024,
                  "peak_rss_mb": after / 1024, "wall_s": wall, "cpu_s": cpu}))
"""


def refusal_in_child(kind: str, path: str | Path, timeout: float = 600) -> dict[str, Any]:
    """Check ``path`` (``model``, ``index`` or ``load_index``) in a fresh interpreter:
    ``{code, message, rss_growth_mb, peak_rss_mb, wall_s, cpu_s}``."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, str(path)], capture_output=True, text=True, timeout=timeout
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def huge_config_model(path: str | Path, channels: int = 5120) -> Path:
    """A tiny real model whose ``config`` says ``upsample_initial_channel=channels``."""
    import torch

    from persona.testing.rvc import write_small_model

    path = Path(path)
    write_small_model(path)
    ckpt = torch.load(path, weights_only=True)
    ckpt["config"][13] = channels
    torch.save(ckpt, path)
    return path


def compressed_model(path: str | Path) -> Path:
    """A real model re-zipped with deflate (torch never writes that): the shape of a zip bomb."""
    from persona.testing.rvc import write_small_model

    path = Path(path)
    plain = write_small_model(path.with_suffix(".plain.pth"))
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    plain.unlink()
    return path


def _fixture_index(path: Path, n: int = 400, dim: int = 768) -> bytes:
    from persona.testing.index import write_rvc_index

    added, _trained = write_rvc_index(path.parent / f"_src-{path.stem}", n=n, dim=dim)
    return Path(added).read_bytes()


def _flat_length_offset(data: bytes) -> int:
    """Offset of the quantizer's float-count field in an IVF-Flat file (after both headers)."""
    ivf_header = 4 + struct.calcsize("<iqqqBi") + 16
    return ivf_header + 4 + struct.calcsize("<iqqqBi")


def index_with_wrong_length(path: str | Path) -> Path:
    """A real RVC IVF-Flat index with one length field (the quantizer's vector size) multiplied."""
    path = Path(path)
    data = bytearray(_fixture_index(path))
    at = _flat_length_offset(bytes(data))
    (n,) = struct.unpack_from("<Q", data, at)
    struct.pack_into("<Q", data, at, n * 1_000_000)
    path.write_bytes(bytes(data))
    return path


def index_with_ntotal(path: str | Path, ntotal: int = 10**12) -> Path:
    """A real RVC index whose header claims ``ntotal`` vectors."""
    path = Path(path)
    data = bytearray(_fixture_index(path))
    struct.pack_into("<q", data, 8, ntotal)
    path.write_bytes(bytes(data))
    return path


def index_with_list_size(path: str | Path, size: int = 10**9) -> Path:
    """A real RVC index whose first non-empty inverted list claims ``size`` vectors."""
    path = Path(path)
    data = bytearray(_fixture_index(path))
    at = data.find(b"full")
    if at < 0:
        at = data.find(b"sprs")
        struct.pack_into("<Q", data, at + 4 + 8 + 8, size)  # (list id, size) pairs
    else:
        struct.pack_into("<Q", data, at + 4 + 8, size)
    path.write_bytes(bytes(data))
    return path


HOSTILE = {  # name -> (maker, kind checked)
    "pth_upsample_5120": (huge_config_model, "model"),
    # within the sane maxima, so the network is built (on the meta device) to compare shapes
    "pth_upsample_2048": (lambda p: huge_config_model(p, 2048), "model"),
    "pth_deflated": (compressed_model, "model"),
    "index_length_x1e6": (index_with_wrong_length, "index"),
    "index_ntotal_1e12": (index_with_ntotal, "index"),
    "index_list_1e9": (index_with_list_size, "index"),
    "index_length_x1e6_worker": (index_with_wrong_length, "load_index"),
}
