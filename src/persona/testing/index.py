"""Fixture builder: small FAISS indexes written exactly as RVC's ``train/train_index.py`` does.

``IVF<n>,Flat`` with ``n = max(1, min(16*sqrt(N), N // 39))``, nprobe 1, trained on the
(shuffled) features, saved as ``trained_*`` (empty) and ``added_*`` (holding the vectors).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def rvc_n_ivf(n_vectors: int) -> int:
    """RVC's IVF list count for ``n_vectors`` training vectors."""
    return max(1, min(int(16 * np.sqrt(n_vectors)), n_vectors // 39))


def index_file_name(kind: str, n_ivf: int, exp_name: str, version: str, nprobe: int = 1) -> str:
    """``added_IVF<n>_Flat_nprobe_<p>_<name>_<v>.index`` (or ``trained_...``)."""
    return f"{kind}_IVF{n_ivf}_Flat_nprobe_{nprobe}_{exp_name}_{version}.index"


def random_features(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """Feature-like vectors: a few clusters so that neighbour search means something."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((8, dim)).astype(np.float32)
    labels = rng.integers(0, len(centres), n)
    return (centres[labels] + 0.3 * rng.standard_normal((n, dim))).astype(np.float32)


def write_rvc_index(
    folder: str | os.PathLike[str],
    features: np.ndarray | None = None,
    *,
    dim: int = 768,
    n: int = 400,
    exp_name: str = "test",
    version: str | None = None,
    seed: int = 0,
) -> tuple[Path, Path]:
    """Write RVC's pair of files into ``folder``; returns ``(added_path, trained_path)``."""
    import faiss

    if features is None:
        features = random_features(n, dim, seed)
    features = np.ascontiguousarray(features, dtype=np.float32)
    dim = features.shape[1]
    version = version or ("v1" if dim == 256 else "v2")
    big_npy = features[np.random.default_rng(seed).permutation(features.shape[0])]
    n_ivf = rvc_n_ivf(big_npy.shape[0])
    index = faiss.index_factory(dim, f"IVF{n_ivf},Flat")
    faiss.extract_index_ivf(index).nprobe = 1
    index.train(big_npy)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    trained = folder / index_file_name("trained", n_ivf, exp_name, version)
    faiss.write_index(index, str(trained))
    for start in range(0, big_npy.shape[0], 8192):
        index.add(big_npy[start : start + 8192])
    added = folder / index_file_name("added", n_ivf, exp_name, version)
    faiss.write_index(index, str(added))
    return added, trained
