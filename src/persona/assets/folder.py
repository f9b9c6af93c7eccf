"""The assets folder as it stands: which weights are where, whether they are there and intact.

``AssetFolder`` answers lookups (``asset``, ``select``, ``url``, ``path``, ``usable``) and
``status`` (present / missing / corrupt / unverified, hashes cached by size and mtime), and
places a verified folder asset into the folder (``place_folder``); getting weights in is the
downloader's (``persona.assets.downloader``) and the importer's (``persona.assets.importer``).
``settings.asset_base_url`` replaces the host of every source URL (mirrors, tests).
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from persona.assets import manifest as _manifest
from persona.assets.manifest import Asset, AssetFile
from persona.assets.verify import HashCache
from persona.errors import PersonaError
from persona.settings import Settings

PARTIAL_DIR = ".partial"  # downloads and imports in progress: the folder only holds verified files


@dataclasses.dataclass(frozen=True)
class AssetStatus:
    name: str
    state: str  # "present" | "missing" | "corrupt" | "unverified" (present, but not the manifest's files)
    path: Path
    size: int | None
    description: str
    group: str
    default: bool
    detail: str = ""

    @property
    def present(self) -> bool:
        return self.state in ("present", "unverified")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["path"] = str(self.path)
        d["present"] = self.present
        return d


def _unknown_message(name: str, manifest: Mapping[str, Asset]) -> str:
    close = difflib.get_close_matches(name, list(manifest), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return f"unknown asset {name!r}; {hint}`persona assets status` lists them"


def _read_pins(path: str) -> dict[str, list[dict]]:
    import json

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PersonaError("asset_invalid", f"the asset pins file {path} cannot be read: {exc}") from None


class AssetFolder:
    """Pretrained weights under ``settings.assets``, named as in API.md's assets folder."""

    def __init__(self, settings: Settings, manifest: Mapping[str, Asset] | None = None) -> None:
        self.settings = settings
        self.root = Path(settings.assets)
        if manifest is None:
            manifest = _manifest.MANIFEST
            if settings.asset_pins:
                manifest = _manifest.with_pins(dict(manifest), _read_pins(settings.asset_pins))
        self.manifest: Mapping[str, Asset] = manifest
        self.cache = HashCache(self.root)

    # ------------------------------------------------------------------------------ lookup

    def asset(self, name: str) -> Asset:
        asset = self.manifest.get(name)
        if asset is None:
            raise PersonaError("asset_unknown", _unknown_message(name, self.manifest))
        return asset

    def select(self, names: Iterable[str] | None) -> list[Asset]:
        """Assets for names or patterns (``pretrained_v2/*``, ``all``); None = the default set."""
        try:
            return _manifest.select(None if names is None else list(names), dict(self.manifest))
        except KeyError as exc:
            raise PersonaError("asset_unknown", _unknown_message(exc.args[0], self.manifest)) from None

    def url(self, file: AssetFile) -> str:
        """The file's source URL, with the host replaced by ``settings.asset_base_url`` if set."""
        base = self.settings.asset_base_url
        if not base:
            return file.url
        parts = urlsplit(file.url)
        return base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")

    def present_on_disk(self, asset: Asset, where: Path) -> bool:
        if not asset.is_folder:
            return where.is_file()
        if not where.is_dir():
            return False
        groups = asset.present_when or tuple((asset.relative(f),) for f in asset.files if not f.optional)
        return all(any((where / n).is_file() for n in group) for group in groups)

    def usable(self, name: str) -> bool:
        """Whether ``path(name)`` would answer: the files a job looks for are there (presence
        only, as the engines check; ``status()`` tells intact from damaged)."""
        asset = self.manifest.get(name)
        return asset is not None and self.present_on_disk(asset, self.root / asset.name)

    def path(self, name: str) -> Path:
        """Where asset ``name`` is; PersonaError ``asset_missing`` (with how to get it) if absent.

        Only checks presence (cheap); ``status()`` verifies checksums.
        """
        asset = self.asset(name)
        where = self.root / asset.name
        if not self.present_on_disk(asset, where):
            raise PersonaError(
                "asset_missing",
                f"{asset.name} ({asset.description}) is missing from {self.root}; "
                f"run `persona assets download {asset.name}` or `persona assets import DIR`",
                status=503,
            )
        return where

    # ------------------------------------------------------------------------------ status

    def _check_file(self, file: AssetFile, path: Path, verify: bool) -> tuple[str, str]:
        if not path.is_file():
            return "missing", f"{file.path} missing"
        size = path.stat().st_size
        if file.size is not None and size != file.size:
            return "corrupt", f"{file.path} is {size} bytes, expected {file.size}"
        if not verify:
            return "present", ""
        digest = self.cache.sha256(file.path, path)
        expected = file.sha256 or self.cache.recorded(file.path)
        if expected and digest != expected:
            return "corrupt", f"{file.path} sha256 {digest[:12]}… differs from {expected[:12]}…"
        return "present", "" if file.sha256 else "no published checksum"

    def status(self, names: Iterable[str] | None = None, *, verify: bool = True) -> dict[str, AssetStatus]:
        """present / missing / corrupt / unverified per asset (all assets when ``names`` is None).

        ``verify`` checks sha256 too; hashes are cached by size and mtime, so only new or changed
        files are read.
        """
        assets = list(self.manifest.values()) if names is None else [self.asset(n) for n in names]
        out: dict[str, AssetStatus] = {}
        for asset in assets:
            where = self.root / asset.name
            states: list[tuple[str, str]] = []
            for file in asset.files:
                state, detail = self._check_file(file, self.root / file.path, verify)
                if state == "missing" and file.optional:
                    continue
                states.append((state, detail))
            if any(s == "missing" for s, _ in states):
                # A folder can hold other files than the manifest's (model.safetensors instead
                # of pytorch_model.bin, its own config): usable, but not ours to verify.
                state = "unverified" if self.present_on_disk(asset, where) else "missing"
            elif any(s == "corrupt" for s, _ in states):
                state = "corrupt"
            else:
                state = "present"
            detail = "; ".join(d for s, d in states if d and (s != "present" or state == "present"))
            if state == "unverified":
                detail = "present, but not the files the manifest lists (not verified)"
            out[asset.name] = AssetStatus(
                name=asset.name,
                state=state,
                path=where,
                size=asset.size,
                description=asset.description,
                group=asset.group,
                default=asset.default,
                detail=detail,
            )
        return out

    # ------------------------------------------------------------------------------ placing

    def prune_partial(self) -> None:
        """Remove the empty folders finished downloads leave under ``.partial/``."""
        top = self.root / PARTIAL_DIR
        if not top.is_dir():
            return
        for folder in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            with contextlib.suppress(OSError):
                folder.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()

    def place_folder(self, asset: Asset, staging: Path) -> None:
        """Rename a completed staging folder onto ``root/<name>`` (replacing an old one)."""
        dest = self.root / asset.name
        for leftover in staging.glob("*.part"):
            leftover.unlink()
        old = None
        if dest.exists():
            old = self.root / PARTIAL_DIR / f"{asset.name}.old-{os.getpid()}"
            if old.exists():
                shutil.rmtree(old)
            os.replace(dest, old)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        for file in asset.files:
            path = self.root / file.path
            if path.is_file():
                self.cache.sha256(file.path, path)  # cache the hashes just verified
