"""Crafted hostile model files (tests and benchmarks): a ``.pth`` whose config claims a huge
network, a compressed ``.pth`` member, metadata entries that are "billion laughs" (a list that
refers to the list below it twice, level by level) or that contain themselves, weights that
claim more values than the file stores (stride 0) or more than any RVC network, ``.index``
files with a wrong length field, an absurd ``ntotal`` or an over-long sparse list table; and
``refusal_in_child`` that checks one the way an upload does (``model``, ``index``: in the
limited child of ``persona.library.isolated``, which reports its own peak RSS growth and CPU
time) or the way the worker loads an index (``load_index``: in a fresh interpreter)."""

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
    """Check ``path`` (``model``, ``index`` or ``load_index``) in a child process:
    ``{code, message, rss_growth_mb, wall_s, cpu_s}`` (``peak_rss_mb`` too for ``load_index``)."""
    if kind in ("model", "index"):
        return _isolated_refusal(kind, Path(path))
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, str(path)], capture_output=True, text=True, timeout=timeout
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _isolated_refusal(kind: str, path: Path) -> dict[str, Any]:
    import time

    from persona.errors import PersonaError
    from persona.library.isolated import run_isolated
    from persona.library.validate import index_facts, model_facts

    seen: list[Any] = []
    func, args = (
        (model_facts, (str(path), path.name))
        if kind == "model"
        else (index_facts, (str(path), None, path.name))
    )
    t0 = time.perf_counter()
    try:
        run_isolated(func, *args, code=f"{kind}_invalid", name=path.name, on_usage=seen.append)
        code = message = None
    except PersonaError as exc:
        code, message = exc.code, exc.message
    usage = seen[0] if seen else None
    return {
        "code": code,
        "message": message,
        "rss_growth_mb": usage.rss_growth_mb if usage else float("nan"),
        "cpu_s": usage.cpu_s if usage else float("nan"),
        "wall_s": time.perf_counter() - t0,
    }


def laughs(depth: int = 64) -> list[Any]:
    """A list whose unfolded size is 2**depth: each level holds the level below twice (pickle
    stores it once, so the file stays tiny)."""
    level: list[Any] = ["ha"]
    for _ in range(depth):
        level = [level, level]
    return level


def _rewritten_model(path: str | Path, change) -> Path:
    import torch

    from persona.testing.rvc import write_small_model

    path = Path(path)
    write_small_model(path, applio=True)
    ckpt = torch.load(path, weights_only=True)
    change(ckpt)
    torch.save(ckpt, path)
    return path


def laughing_entry(key: str):
    """A maker: a tiny real model whose ``key`` entry is a billion-laughs list."""

    def make(path: str | Path) -> Path:
        def change(ckpt: dict[str, Any]) -> None:
            if key == "config":
                ckpt["config"] = list(ckpt["config"])
                ckpt["config"][10] = laughs()
            elif key == "persona":
                ckpt["persona"] = {"f0_unvoiced": "zero", "trainer": "persona", "embedder": laughs()}
            else:
                ckpt[key] = laughs()

        return _rewritten_model(path, change)

    return make


def self_containing_info(path: str | Path) -> Path:
    """A tiny real model whose ``info`` is a list that contains itself."""

    def change(ckpt: dict[str, Any]) -> None:
        loop: list[Any] = []
        loop.append(loop)
        ckpt["info"] = loop

    return _rewritten_model(path, change)


def expanded_weights(path: str | Path, rows: int = 100_000, cols: int = 2048) -> Path:
    """A tiny real model plus one weight that claims ``rows x cols`` values from a one-value
    storage (stride 0): 205 M parameters by count, 2 bytes in the file."""
    import torch

    def change(ckpt: dict[str, Any]) -> None:
        ckpt["weight"]["emb_g.weight"] = torch.zeros(1, dtype=torch.float16).expand(rows, cols)

    return _rewritten_model(path, change)


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


def sparse_table_index(path: str | Path, pairs: int = 100_000) -> Path:
    """A real RVC index whose inverted lists are stored "sprs" with far more (list, size) pairs
    than lists (FAISS writes one per non-empty list): zeros, as a bomb inflates to."""
    path = Path(path)
    data = bytearray(_fixture_index(path))
    at = data.find(b"full")
    kind_at = at if at >= 0 else data.find(b"sprs")
    (n,) = struct.unpack_from("<Q", data, kind_at + 4)
    tail = data[kind_at + 4 + 8 + 8 * n :]
    table = struct.pack("<Q", 2 * pairs) + bytes(16 * pairs)
    path.write_bytes(bytes(data[:kind_at]) + b"sprs" + table + bytes(tail))
    return path


HOSTILE = {  # name -> (maker, kind checked)
    "pth_info_laughs": (laughing_entry("info"), "model"),
    "pth_version_laughs": (laughing_entry("version"), "model"),
    "pth_config_laughs": (laughing_entry("config"), "model"),
    "pth_persona_laughs": (laughing_entry("persona"), "model"),
    "pth_embedder_laughs": (laughing_entry("embedder_model"), "model"),
    "pth_other_key_laughs": (laughing_entry("model_name"), "model"),
    "pth_info_contains_itself": (self_containing_info, "model"),
    "pth_expanded_205m_weights": (expanded_weights, "model"),
    "pth_expanded_12m_weights": (lambda p: expanded_weights(p, 50_000, 256), "model"),
    "index_sparse_table_100k": (sparse_table_index, "index"),
    "pth_upsample_5120": (huge_config_model, "model"),
    # within the sane maxima, so the network is built (on the meta device) to compare shapes
    "pth_upsample_2048": (lambda p: huge_config_model(p, 2048), "model"),
    "pth_deflated": (compressed_model, "model"),
    "index_length_x1e6": (index_with_wrong_length, "index"),
    "index_ntotal_1e12": (index_with_ntotal, "index"),
    "index_list_1e9": (index_with_list_size, "index"),
    "index_length_x1e6_worker": (index_with_wrong_length, "load_index"),
}


def burn_cpu() -> None:
    """A check that never ends (stands in for a parser stuck on a crafted file)."""
    while True:
        pass


def grab_memory(mb: int) -> int:
    """A check that allocates ``mb`` MiB (stands in for a parser trusting a length field)."""
    held = [bytearray(1 << 20) for _ in range(mb)]
    return len(held)
