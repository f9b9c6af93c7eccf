"""Check a whole FAISS index file against its own size before any FAISS code reads it.

``faiss.read_index`` trusts every length in the file: one changed field makes it allocate
gigabytes before it fails. This module walks the layout FAISS' ``index_write.cpp`` writes for the
indexes RVC produces (``IndexIVFFlat`` "IwFl" over a flat quantizer "IxF2"/"IxFI", with
``ArrayInvertedLists`` "ilar" stored "full" or "sprs"; and a bare flat index) in pure Python,
reading only the small length fields and seeking over the data, and checks that every declared
length fits in the bytes that remain, that the lists add up to ``ntotal``, that the code size is
``4 * d`` and the dimension is RVC's. So the memory FAISS later needs is bounded by the file.
Other index types are refused: RVC never writes them.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from persona.errors import PersonaError

DIMS = (256, 768)  # v1, v2 content features
MAX_NLIST = 1 << 20
_TABLE_BLOCK = 1 << 16  # list-table entries read at a time
MAX_NTOTAL = 1 << 31  # far above any voice's feature count (RVC caps training at 2e5 vectors)


class _Reader:
    def __init__(self, fh: BinaryIO, size: int, name: str) -> None:
        self.fh, self.size, self.name = fh, size, name

    def bad(self, problem: str) -> PersonaError:
        return PersonaError("index_invalid", f"{self.name} is not a valid FAISS index: {problem}")

    @property
    def left(self) -> int:
        return self.size - self.fh.tell()

    def take(self, n: int) -> bytes:
        if n < 0 or n > self.left:
            raise self.bad("it is truncated or a length field is wrong")
        return self.fh.read(n)

    def unpack(self, fmt: str):
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def skip(self, n: int, what: str) -> None:
        if n < 0 or n > self.left:
            raise self.bad(f"it declares {n} bytes of {what} but only {self.left} remain in the file")
        self.fh.seek(n, 1)

    def vector_len(self, item: int, what: str) -> int:
        (n,) = self.unpack("Q")
        if n * item > self.left:
            raise self.bad(f"it declares {n} {what} but the file cannot hold them")
        return n


def _header(r: _Reader) -> tuple[int, int]:
    d, ntotal, _d1, _d2, _trained, metric = r.unpack("iqqqBi")
    if metric > 1:
        r.unpack("f")
    if d not in DIMS:
        raise r.bad(f"its feature size is {d}; RVC indexes have 256 or 768")
    if not 0 <= ntotal <= MAX_NTOTAL:
        raise r.bad(f"it claims {ntotal} vectors")
    return d, ntotal


def _flat(r: _Reader, fourcc: bytes) -> tuple[int, int]:
    if fourcc not in (b"IxF2", b"IxFI", b"IxFl"):
        raise r.bad(f"unsupported index type {fourcc!r} (RVC writes IVF-Flat or Flat indexes)")
    d, ntotal = _header(r)
    n = r.vector_len(4, "floats")
    if n != ntotal * d:
        raise r.bad(f"its flat data holds {n} floats, not {ntotal} x {d}")
    r.skip(n * 4, "vectors")
    return d, ntotal


def _table(r: _Reader, n: int) -> Iterator[int]:
    """``n`` little-endian uint64 values, read in blocks (never an n-length tuple in memory)."""
    left = n
    while left:
        count = min(left, _TABLE_BLOCK)
        for (value,) in struct.iter_unpack("<Q", r.take(8 * count)):
            yield value
        left -= count


def _ivf_flat(r: _Reader) -> tuple[int, int]:
    d, ntotal = _header(r)
    nlist, _nprobe = r.unpack("QQ")
    if not 0 < nlist <= MAX_NLIST:
        raise r.bad(f"it declares {nlist} lists")
    qd, qn = _flat(r, r.take(4))
    if qd != d or qn != nlist:
        raise r.bad("its coarse quantizer does not match the index")
    (dm_type,) = r.unpack("b")
    r.skip(r.vector_len(8, "direct-map entries") * 8, "direct map")
    if dm_type == 2:
        r.skip(r.vector_len(16, "hash entries") * 16, "direct map")
    lists = r.take(4)
    if lists == b"il00":
        if ntotal:
            raise r.bad("it has vectors but no inverted lists")
        return d, ntotal
    if lists != b"ilar":
        raise r.bad(f"unsupported inverted lists {lists!r}")
    il_nlist, code_size = r.unpack("QQ")
    if il_nlist != nlist or code_size != 4 * d:
        raise r.bad("its inverted lists do not match the index")
    kind = r.take(4)
    n = r.vector_len(8, "list sizes")
    if kind == b"full":
        if n != nlist:
            raise r.bad("its list table has the wrong length")
        sizes = [0] * nlist
        for i, size in enumerate(_table(r, n)):
            sizes[i] = size
    elif kind == b"sprs":
        # FAISS writes one (list, size) pair per non-empty list: never more pairs than lists.
        if n % 2 or n // 2 > nlist:
            raise r.bad("its sparse list table has the wrong length")
        sizes = [0] * nlist
        table = _table(r, n)
        for list_no, size in zip(table, table, strict=True):
            if list_no >= nlist:
                raise r.bad("its sparse list table names a list that does not exist")
            sizes[list_no] = size
    else:
        raise r.bad(f"unsupported list storage {kind!r}")
    total = sum(sizes)
    if total != ntotal:
        raise r.bad(f"its lists hold {total} vectors but it claims {ntotal}")
    need = total * (code_size + 8)
    if need > r.left:
        raise r.bad(f"its lists need {need} bytes but only {r.left} remain in the file")
    r.skip(need, "list data")
    return d, ntotal


def check_index_file(path: str | Path) -> dict[str, int]:
    """Walk ``path``; ``{dim, ntotal, nbytes}`` or PersonaError ``index_invalid``."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        r = _Reader(fh, size, path.name)
        fourcc = r.take(4) if size >= 4 else b""
        if fourcc == b"IwFl":
            d, ntotal = _ivf_flat(r)
        elif fourcc in (b"IxF2", b"IxFI", b"IxFl"):
            d, ntotal = _flat(r, fourcc)
        elif len(fourcc) == 4 and fourcc[:1] == b"I":
            raise r.bad(f"unsupported index type {fourcc!r} (RVC writes IVF-Flat or Flat indexes)")
        else:
            raise PersonaError("index_invalid", f"{path.name} is not a FAISS index file")
        if r.left:
            raise r.bad(f"{r.left} bytes follow the index")
    return {"dim": d, "ntotal": ntotal, "nbytes": size}
