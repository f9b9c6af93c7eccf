"""Read untrusted model zips safely and pick the model and index inside.

Refuses: member names that are absolute or climb out (``..``), symlinks, more members than
``max_members``, members that inflate more than ``MAX_RATIO`` times, and more uncompressed
bytes than ``max_bytes`` — by the sizes the zip declares and
again by the bytes actually inflated (a lying header cannot sneak a bomb through). Nothing is ever
extracted under a member's own name: chosen members are copied to paths the caller gives.

Choice (community zips hold anything): ``.pth`` files that are training checkpoints (``G_123.pth``,
``D_latest.pth``) are used only if nothing else is there (and then refused with a clear message);
among exported models the one whose stem appears in an index name wins, then the shallowest, then
the smallest path. Among indexes ``added_*`` (what RVC uses to convert) beats ``trained_*``.
"""

from __future__ import annotations

import dataclasses
import re
import stat
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath

from persona.errors import PersonaError

_CHECKPOINT_RE = re.compile(r"^[GD]_(\d+|latest)\.pth$", re.IGNORECASE)
_CHUNK = 1 << 20
# Model weights and index vectors are nearly incompressible (fp16/fp32 data deflates ~1.1x); a
# member that packs tighter than this is mostly zeros: the shape of a zip bomb (issue 24: a
# 460 MB "network" in a 487 KB zip). Small members (a text file) are exempt.
MAX_RATIO = 20
_RATIO_FLOOR = 1 << 20


@dataclasses.dataclass(frozen=True)
class ZipChoice:
    pth: zipfile.ZipInfo
    index: zipfile.ZipInfo | None
    skipped: list[str]  # other .pth / .index members, for the "which was taken" message

    @property
    def note(self) -> str:
        parts = [f"took {printable_name(self.pth.filename)}"]
        if self.index is not None:
            parts.append(f"and {printable_name(self.index.filename)}")
        if self.skipped:
            parts.append(f"(ignored {', '.join(printable_name(n) for n in self.skipped)})")
        return " ".join(parts)


def printable_name(name: str, limit: int = 200) -> str:
    """A zip member's name as it may appear in API text: control characters (CR, LF, ...) and
    bidirectional overrides (U+202E and friends, which can disguise ``exe.pth`` as ``htp.exe``)
    become ``?``, and it is cut to ``limit`` characters."""
    out = "".join("?" if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in name)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return info.create_system == 3 and stat.S_ISLNK(mode)


def _safe_parts(name: str) -> tuple[str, ...]:
    if "\x00" in name:
        raise PersonaError("zip_unsafe", "the zip holds a member with a NUL byte in its name")
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        raise PersonaError("zip_unsafe", f"the zip holds an absolute path ({name!r})")
    parts = tuple(p for p in PurePosixPath(norm).parts if p not in ("", "."))
    if ".." in parts:
        raise PersonaError("zip_unsafe", f"the zip holds a path that climbs out of it ({name!r})")
    return parts


def scan_zip(zf: zipfile.ZipFile, *, max_members: int, max_bytes: int) -> list[zipfile.ZipInfo]:
    """Check every member's name, type and declared size; return the regular files."""
    infos = zf.infolist()
    if len(infos) > max_members:
        raise PersonaError(
            "zip_too_large", f"the zip holds {len(infos)} entries; at most {max_members} allowed"
        )
    total = 0
    files = []
    for info in infos:
        _safe_parts(info.filename)
        if _is_symlink(info):
            raise PersonaError("zip_unsafe", f"the zip holds a symbolic link ({info.filename!r})")
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            raise PersonaError("zip_unsafe", f"{info.filename!r} is encrypted")
        if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise PersonaError(
                "zip_too_large",
                f"{printable_name(info.filename)} unpacks to {ratio:.0f} times its packed size "
                f"(at most {MAX_RATIO}); real model files barely compress",
                params={"file": printable_name(info.filename), "ratio": round(ratio), "max_ratio": MAX_RATIO},
            )
        total += info.file_size
        if total > max_bytes:
            raise PersonaError("zip_too_large", f"the zip unpacks to more than {max_bytes // (1 << 20)} MiB")
        files.append(info)
    return files


def _ignored(parts: tuple[str, ...]) -> bool:
    return parts[0] == "__MACOSX" or parts[-1].startswith("._")


def choose_members(files: list[zipfile.ZipInfo]) -> ZipChoice:
    """Pick the voice model and the index among the zip's files."""
    pths, indexes = [], []
    for info in files:
        parts = _safe_parts(info.filename)
        if not parts or _ignored(parts):
            continue
        low = parts[-1].lower()
        if low.endswith(".pth"):
            pths.append(info)
        elif low.endswith(".index"):
            indexes.append(info)
    exported = [i for i in pths if not _CHECKPOINT_RE.match(PurePosixPath(i.filename).name)]
    if not exported:
        if pths:
            raise PersonaError(
                "model_invalid",
                "the zip holds only training checkpoints (G_*.pth / D_*.pth), not an exported voice model",
            )
        raise PersonaError("model_invalid", "the zip holds no .pth voice model")

    def index_rank(info: zipfile.ZipInfo) -> tuple:
        name = PurePosixPath(info.filename).name.lower()
        return (
            0 if name.startswith("added") else 1 if not name.startswith("trained") else 2,
            len(_safe_parts(info.filename)),
            info.filename,
        )

    indexes.sort(key=index_rank)
    index_names = " ".join(PurePosixPath(i.filename).name.lower() for i in indexes)

    def pth_rank(info: zipfile.ZipInfo) -> tuple:
        stem = PurePosixPath(info.filename).stem.lower()
        return (0 if stem and stem in index_names else 1, len(_safe_parts(info.filename)), info.filename)

    exported.sort(key=pth_rank)
    pth = exported[0]
    index = indexes[0] if indexes else None
    skipped = [i.filename for i in pths if i is not pth] + [i.filename for i in indexes if i is not index]
    return ZipChoice(pth=pth, index=index, skipped=skipped)


def extract_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, *, budget: list[int]) -> int:
    """Copy one member to ``dest``, counting actual inflated bytes against ``budget[0]``."""
    written = 0
    with zf.open(info) as src, open(dest, "wb") as out:
        while True:
            chunk = src.read(_CHUNK)
            if not chunk:
                break
            written += len(chunk)
            budget[0] -= len(chunk)
            if budget[0] < 0 or written > info.file_size:
                raise PersonaError("zip_too_large", "the zip inflates to more than it declares")
            out.write(chunk)
    return written
