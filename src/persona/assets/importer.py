"""Bringing weights in from a folder on this machine (an offline install), verifying as it copies.

The source may be laid out like our assets folder, like RVC's ``assets/`` (``hubert/``,
``rmvpe/``, ``pretrained_v2/``; RVC's project folder itself works too) or like Applio's
``rvc/models/`` tree. Every file is copied atomically and hashed on the way; a checksum that
differs from the manifest's is refused.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from persona.assets.folder import PARTIAL_DIR, AssetFolder
from persona.assets.manifest import Asset, AssetFile
from persona.errors import PersonaError
from persona.fsutil import atomic_path
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress

_COPY_CHUNK = 4 * 1024 * 1024


def _find_source(folder: AssetFolder, asset: Asset, roots: list[Path]) -> Path | None:
    for root in roots:
        for rel in (asset.name, *asset.alternates):
            candidate = root / rel
            if folder.present_on_disk(asset, candidate):
                return candidate
    return None


def _copy_verified(src: Path, dest: Path, file: AssetFile | None, rel: str) -> str:
    """Copy ``src`` to ``dest`` atomically, hashing on the way; refuse a checksum mismatch."""
    digest = hashlib.sha256()
    with atomic_path(dest) as tmp:
        with src.open("rb") as fin, tmp.open("wb") as fout:
            for block in iter(lambda: fin.read(_COPY_CHUNK), b""):
                digest.update(block)
                fout.write(block)
        value = digest.hexdigest()
        if file is not None:
            size = tmp.stat().st_size
            if file.size is not None and size != file.size:
                raise PersonaError("asset_corrupt", f"{src}: {size} bytes, expected {file.size}")
            if file.sha256 is not None and value != file.sha256:
                raise PersonaError(
                    "asset_corrupt", f"{src}: sha256 {value[:12]}… differs from {file.sha256[:12]}…"
                )
    return value


def import_dir(
    folder: AssetFolder,
    path: str | os.PathLike[str],
    progress: ProgressFn = null_progress,
    cancel: CancelToken = NEVER_CANCELLED,
) -> dict[str, str]:
    """Copy every known asset found in ``path`` into the assets folder, verifying each.

    ``path`` may be laid out like our assets folder, like RVC's ``assets/`` (``hubert/``,
    ``rmvpe/``, ``pretrained_v2/``; RVC's project folder itself works too) or like Applio's.
    Returns ``{name: "imported" | "already present" | "corrupt: <why>"}`` for the assets
    found. Raises PersonaError ``import_dir_missing`` or ``assets_not_found``.
    """
    src = Path(path).expanduser()
    if not src.is_dir():
        raise PersonaError("import_dir_missing", f"{src} is not a folder", status=404)
    roots = [src] + [src / sub for sub in ("assets", "models") if (src / sub).is_dir()]
    found = [(a, s) for a in folder.manifest.values() if (s := _find_source(folder, a, roots)) is not None]
    if not found:
        raise PersonaError(
            "assets_not_found",
            f"no known weights in {src} (expected e.g. hubert_base/, hubert/hubert_base.pt, "
            "rmvpe/rmvpe.pt or pretrained_v2/*.pth)",
            status=404,
        )
    current = folder.status([a.name for a, _ in found])
    results: dict[str, str] = {}
    for i, (asset, source) in enumerate(found):
        cancel.check()
        progress("import", i / len(found), asset.name)
        dest = folder.root / asset.name
        if current[asset.name].state == "present" or _same_place(source, dest):
            results[asset.name] = "already present"
            continue
        try:
            if asset.is_folder:
                _import_folder(folder, asset, source)
            else:
                file = asset.files[0]
                digest = _copy_verified(source, dest, file, file.path)
                if file.sha256 is None:
                    folder.cache.record(file.path, digest)
                folder.cache.remember(file.path, dest, digest)
            results[asset.name] = "imported"
        except PersonaError as exc:
            if exc.code != "asset_corrupt":
                raise
            results[asset.name] = f"corrupt: {exc.message}"
    progress("import", 1.0, "done")
    return results


def _same_place(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _import_folder(folder: AssetFolder, asset: Asset, source: Path) -> None:
    staging = folder.root / PARTIAL_DIR / f"{asset.name}.import"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    by_name = {asset.relative(f): f for f in asset.files}
    try:
        # Regular top-level files only: a model folder has no subfolders, and links are refused.
        for item in sorted(source.iterdir()):
            if item.is_symlink() or not item.is_file() or item.name.startswith("."):
                continue
            file = by_name.get(item.name)
            digest = _copy_verified(item, staging / item.name, file, f"{asset.name}/{item.name}")
            if file is not None and file.sha256 is None:
                folder.cache.record(file.path, digest)
        folder.place_folder(asset, staging)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
