"""AssetManager: the assets folder (``folder``), with its two ways in: downloads (``downloader``)
and imports from a local folder (``importer``). What callers use; each seam lives in its module."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from persona.assets.downloader import download_assets
from persona.assets.folder import AssetFolder, AssetStatus
from persona.assets.importer import import_dir
from persona.assets.manifest import Asset
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress
from persona.settings import Settings

__all__ = ["AssetManager", "AssetStatus"]


class AssetManager(AssetFolder):
    """Pretrained weights under ``settings.assets``: status, download, import."""

    def __init__(
        self,
        settings: Settings,
        manifest: Mapping[str, Asset] | None = None,
        *,
        retries: int = 4,
        backoff: float = 0.5,
    ) -> None:
        super().__init__(settings, manifest)
        self.retries = retries
        self.backoff = backoff

    def download(
        self,
        names: Iterable[str] | None = None,
        progress: ProgressFn = null_progress,
        cancel: CancelToken = NEVER_CANCELLED,
    ) -> dict[str, AssetStatus]:
        """See ``persona.assets.downloader.download_assets``."""
        return download_assets(self, names, progress, cancel, retries=self.retries, backoff=self.backoff)

    def import_dir(
        self,
        path: str | os.PathLike[str],
        progress: ProgressFn = null_progress,
        cancel: CancelToken = NEVER_CANCELLED,
    ) -> dict[str, str]:
        """See ``persona.assets.importer.import_dir``."""
        return import_dir(self, path, progress, cancel)
