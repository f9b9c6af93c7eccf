"""Pretrained weights: the manifest (``manifest``), checksums (``verify``), the assets folder's
state (``folder``), getting weights in from the internet (``downloader``, over ``download``'s
resumable fetch of one file) or from a local folder (``importer``), and the ``AssetManager``
that offers all three (``manager``)."""

from persona.assets.manager import AssetManager, AssetStatus
from persona.assets.manifest import MANIFEST, Asset, AssetFile, register

__all__ = ["MANIFEST", "Asset", "AssetFile", "AssetManager", "AssetStatus", "register"]
