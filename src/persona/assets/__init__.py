"""Pretrained weights: the manifest (``manifest``), checksums (``verify``), resumable downloads
(``download``) and the ``AssetManager`` that ties them to the assets folder (``manager``)."""

from persona.assets.manager import AssetManager, AssetStatus
from persona.assets.manifest import MANIFEST, Asset, AssetFile, register

__all__ = ["MANIFEST", "Asset", "AssetFile", "AssetManager", "AssetStatus", "register"]
