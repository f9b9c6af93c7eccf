"""Getting weights from the internet into the assets folder: resumable, verified, placed whole.

Each file is fetched into a ``.part`` under ``.partial/`` (``persona.assets.download.fetch``
resumes it), its size and sha256 are checked, and only then is it renamed into place; a folder
asset such as ``hubert_base/`` is assembled under ``.partial/`` and renamed as a whole. Progress
reports bytes, speed and ETA (``STAGES``: download, then verify, per file).
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterable
from pathlib import Path

from persona.assets.download import fetch, new_session
from persona.assets.folder import PARTIAL_DIR, AssetFolder, AssetStatus
from persona.assets.manifest import AssetFile
from persona.assets.verify import sha256_file
from persona.errors import PersonaError
from persona.messages import msg
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress

STAGES = ("download", "verify")  # what a download reports, in order (``jobs.kinds``)


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


def verify_part(file: AssetFile, part: Path, vouched: str | None) -> str:
    """The part's size and sha256 against the manifest (or the server's word); a bad part goes."""
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


def download_assets(
    folder: AssetFolder,
    names: Iterable[str] | None = None,
    progress: ProgressFn = null_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    *,
    retries: int = 4,
    backoff: float = 0.5,
) -> dict[str, AssetStatus]:
    """Fetch the named assets (default set when None) that are not present and intact.

    Resumes from ``.part`` files, verifies size and sha256, then renames into place.
    Returns the final status of those assets. Raises PersonaError ``download_failed`` or
    ``asset_checksum_mismatch`` (nothing is left in place), or Cancelled.
    """
    assets = folder.select(names)
    current = folder.status([a.name for a in assets])
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
        staging = folder.root / PARTIAL_DIR / asset.name if asset.is_folder else None
        for file in asset.files:
            cancel.check()
            final = staging / asset.relative(file) if staging else folder.root / file.path
            # Parts live under .partial/: the assets folder only ever holds verified files.
            if staging is None:
                part = folder.root / PARTIAL_DIR / (file.path + ".part")
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
                    folder.url(file),
                    part,
                    expected_size=file.size,
                    session=session,
                    on_bytes=report,
                    cancel=cancel,
                    retries=retries,
                    backoff=backoff,
                )
                progress(
                    "verify",
                    min(1.0, done / total) if total else 0.0,
                    msg("verify_asset", name=asset.name),
                )
                digest = verify_part(file, part, vouched)
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(part, final)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                part.unlink(missing_ok=True)  # a full disk: free what we took
                raise PersonaError(
                    "disk_full",
                    f"no space left to save {file.path} in {folder.root}; free some space and try again",
                    status=507,
                    params={"name": asset.name},
                ) from None
            if file.sha256 is None:
                folder.cache.record(file.path, digest)
            if staging is None:
                folder.cache.remember(file.path, final, digest)
            done += final.stat().st_size
        if staging is not None:
            folder.place_folder(asset, staging)
    folder.prune_partial()
    progress("download", 1.0, msg("download_done"), bytes_done=done, bytes_total=total)
    return folder.status([a.name for a in assets])
