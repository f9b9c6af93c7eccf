"""AssetManager: where the pretrained weights are, whether they are intact, how to get them.

Downloads resume from ``.part`` files, verify size and sha256 and only then rename into place
(a folder asset such as ``hubert_base/`` is assembled under ``.partial/`` and renamed as a whole).
``import_dir`` copies from a folder laid out like ours, like RVC's ``assets/`` (``hubert/``,
``rmvpe/``, ``pretrained_v2/``) or like Applio's ``rvc/models/`` tree, verifying as it copies.
``settings.asset_base_url`` replaces the host of every source URL (mirrors, tests).
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import errno
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from persona.assets import manifest as _manifest
from persona.assets.download import fetch, new_session
from persona.assets.manifest import Asset, AssetFile
from persona.assets.verify import HashCache, sha256_file
from persona.errors import PersonaError
from persona.fsutil import atomic_path
from persona.messages import msg
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress
from persona.settings import Settings

log = logging.getLogger(__name__)

PARTIAL_DIR = ".partial"
STAGES = ("download", "verify")  # what a download reports, in order (``jobs.kinds``)
_COPY_CHUNK = 4 * 1024 * 1024


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


class _Speed:
    """Bytes per second over the last few seconds of this download (not counting resumed bytes)."""

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = window_s
        self.samples: list[tuple[float, int]] = []

    def update(self, count: int) -> float | None:
        now = time.monotonic()
        self.samples.append((now, count))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window_s:
            self.samples.pop(0)
        (t0, c0), (t1, c1) = self.samples[0], self.samples[-1]
        if t1 - t0 < 0.5 or c1 <= c0:
            return None
        return (c1 - c0) / (t1 - t0)


class AssetManager:
    """Pretrained weights under ``settings.assets``, named as in API.md's assets folder."""

    def __init__(
        self,
        settings: Settings,
        manifest: Mapping[str, Asset] | None = None,
        *,
        retries: int = 4,
        backoff: float = 0.5,
    ) -> None:
        self.settings = settings
        self.root = Path(settings.assets)
        if manifest is None:
            manifest = _manifest.MANIFEST
            if settings.asset_pins:
                manifest = _manifest.with_pins(dict(manifest), _read_pins(settings.asset_pins))
        self.manifest: Mapping[str, Asset] = manifest
        self.cache = HashCache(self.root)
        self.retries = retries
        self.backoff = backoff

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

    def _present_on_disk(self, asset: Asset, where: Path) -> bool:
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
        return asset is not None and self._present_on_disk(asset, self.root / asset.name)

    def path(self, name: str) -> Path:
        """Where asset ``name`` is; PersonaError ``asset_missing`` (with how to get it) if absent.

        Only checks presence (cheap); ``status()`` verifies checksums.
        """
        asset = self.asset(name)
        where = self.root / asset.name
        if not self._present_on_disk(asset, where):
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
                state = "unverified" if self._present_on_disk(asset, where) else "missing"
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

    # ---------------------------------------------------------------------------- download

    def _verify_part(self, file: AssetFile, part: Path, vouched: str | None) -> str:
        size = part.stat().st_size
        if file.size is not None and size != file.size:
            part.unlink()
            raise PersonaError(
                "asset_checksum_mismatch",
                f"{file.path}: downloaded {size} bytes, expected {file.size}; the download was deleted, try again",
                status=502,
                params={"file": file.path},
            )
        digest = sha256_file(part)
        expected = file.sha256 or vouched
        if expected and digest != expected:
            part.unlink()
            raise PersonaError(
                "asset_checksum_mismatch",
                f"{file.path}: sha256 {digest} does not match the expected {expected}; "
                "the download was deleted (a broken mirror or a changed upstream file)",
                status=502,
                params={"file": file.path},
            )
        return digest

    def download(
        self,
        names: Iterable[str] | None = None,
        progress: ProgressFn = null_progress,
        cancel: CancelToken = NEVER_CANCELLED,
    ) -> dict[str, AssetStatus]:
        """Fetch the named assets (default set when None) that are not present and intact.

        Resumes from ``.part`` files, verifies size and sha256, then renames into place.
        Returns the final status of those assets. Raises PersonaError ``download_failed`` or
        ``asset_checksum_mismatch`` (nothing is left in place), or Cancelled.
        """
        assets = self.select(names)
        current = self.status([a.name for a in assets])
        # A folder the user filled with other files (e.g. model.safetensors) is kept unless named.
        keep = ("present",) if names is not None else ("present", "unverified")
        todo = [a for a in assets if current[a.name].state not in keep]
        files = [f for a in todo for f in a.files]
        sizes_known = all(f.size is not None for f in files)
        total = sum(f.size or 0 for f in files)
        done = 0
        session = new_session()
        progress("download", 0.0, "", bytes_done=0, bytes_total=total)
        speed = _Speed()
        for index, asset in enumerate(todo):
            staging = self.root / PARTIAL_DIR / asset.name if asset.is_folder else None
            for file in asset.files:
                cancel.check()
                final = staging / asset.relative(file) if staging else self.root / file.path
                # Parts live under .partial/: the assets folder only ever holds verified files.
                if staging is None:
                    part = self.root / PARTIAL_DIR / (file.path + ".part")
                else:
                    part = final.with_name(final.name + ".part")
                if final.exists() and staging is not None:
                    if file.sha256 is None or sha256_file(final) == file.sha256:
                        done += file.size or 0
                        continue
                    final.unlink()
                what = msg("download_asset", name=asset.name, n=index + 1, total=len(todo))

                def report(n: int, _index: int = index, _base: int = done, _what=what) -> None:
                    if sizes_known and total:
                        fraction = (_base + n) / total
                    else:
                        fraction = (_index + 0.5) / max(1, len(todo))
                    rate = speed.update(_base + n)
                    left = max(0, total - _base - n)
                    progress(
                        "download",
                        min(fraction, 1.0),
                        _what,
                        bytes_done=_base + n,
                        bytes_total=total,
                        bytes_per_s=None if rate is None else round(rate),
                        eta_s=None if not rate or not sizes_known else left / rate,
                    )

                try:
                    vouched = fetch(
                        self.url(file),
                        part,
                        expected_size=file.size,
                        session=session,
                        on_bytes=report,
                        cancel=cancel,
                        retries=self.retries,
                        backoff=self.backoff,
                    )
                    progress(
                        "verify",
                        min(1.0, done / total) if total else 0.0,
                        msg("verify_asset", name=asset.name),
                    )
                    digest = self._verify_part(file, part, vouched)
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(part, final)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    part.unlink(missing_ok=True)  # a full disk: free what we took
                    raise PersonaError(
                        "disk_full",
                        f"no space left to save {file.path} in {self.root}; free some space and try again",
                        status=507,
                        params={"name": asset.name},
                    ) from None
                if file.sha256 is None:
                    self.cache.record(file.path, digest)
                if staging is None:
                    self.cache.remember(file.path, final, digest)
                done += final.stat().st_size
            if staging is not None:
                self._place_folder(asset, staging)
        self._prune_partial()
        progress("download", 1.0, msg("download_done"), bytes_done=done, bytes_total=total)
        return self.status([a.name for a in assets])

    def _prune_partial(self) -> None:
        """Remove the empty folders finished downloads leave under ``.partial/``."""
        top = self.root / PARTIAL_DIR
        if not top.is_dir():
            return
        for folder in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            with contextlib.suppress(OSError):
                folder.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()

    def _place_folder(self, asset: Asset, staging: Path) -> None:
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

    # ------------------------------------------------------------------------------ import

    def _find_source(self, asset: Asset, roots: list[Path]) -> Path | None:
        for root in roots:
            for rel in (asset.name, *asset.alternates):
                candidate = root / rel
                if self._present_on_disk(asset, candidate):
                    return candidate
        return None

    def _copy_verified(self, src: Path, dest: Path, file: AssetFile | None, rel: str) -> str:
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
        self,
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
        found = [(a, s) for a in self.manifest.values() if (s := self._find_source(a, roots)) is not None]
        if not found:
            raise PersonaError(
                "assets_not_found",
                f"no known weights in {src} (expected e.g. hubert_base/, hubert/hubert_base.pt, "
                "rmvpe/rmvpe.pt or pretrained_v2/*.pth)",
                status=404,
            )
        current = self.status([a.name for a, _ in found])
        results: dict[str, str] = {}
        for i, (asset, source) in enumerate(found):
            cancel.check()
            progress("import", i / len(found), asset.name)
            dest = self.root / asset.name
            if current[asset.name].state == "present" or self._same_place(source, dest):
                results[asset.name] = "already present"
                continue
            try:
                if asset.is_folder:
                    self._import_folder(asset, source)
                else:
                    file = asset.files[0]
                    digest = self._copy_verified(source, dest, file, file.path)
                    if file.sha256 is None:
                        self.cache.record(file.path, digest)
                    self.cache.remember(file.path, dest, digest)
                results[asset.name] = "imported"
            except PersonaError as exc:
                if exc.code != "asset_corrupt":
                    raise
                results[asset.name] = f"corrupt: {exc.message}"
        progress("import", 1.0, "done")
        return results

    @staticmethod
    def _same_place(a: Path, b: Path) -> bool:
        try:
            return a.resolve() == b.resolve()
        except OSError:
            return False

    def _import_folder(self, asset: Asset, source: Path) -> None:
        staging = self.root / PARTIAL_DIR / f"{asset.name}.import"
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
                digest = self._copy_verified(item, staging / item.name, file, f"{asset.name}/{item.name}")
                if file is not None and file.sha256 is None:
                    self.cache.record(file.path, digest)
            self._place_folder(asset, staging)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
