"""Retrieval index: RVC's FAISS ``.index`` files, loaded once and used to pull features
towards the training voice.

Follows RVC's ``infer/vc/pipeline.py``: the file is read with ``faiss.read_index`` and all
stored vectors are taken with ``reconstruct_n(0, ntotal)`` (RVC's "big_npy"); every content
frame is replaced by the average of its k=8 nearest stored vectors weighted by
``1 / score**2`` (``score`` is FAISS's squared L2 distance), then blended with the original
frame by ``index_rate``. Files are the ones RVC's ``train/train_index.py`` writes
(``added_IVF<n>_Flat_nprobe_<p>_<name>_<v>.index``, an ``IVF<n>,Flat`` index with nprobe 1).

Differs from RVC in: an empty index (the ``trained_*`` file, ntotal 0) or one whose dimension
does not match the model (256 for v1, 768 for v2) is refused with a clear ``index_invalid``
error instead of crashing with "index -1 is out of bounds"; missing neighbours (FAISS label -1,
possible when an IVF list holds fewer than k vectors) get weight 0 instead of silently reading
the last vector; an exact match (distance 0) gets a finite weight instead of NaN.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from persona.errors import PersonaError
from persona.rvc.formats import FEATURE_DIMS

K_NEIGHBOURS = 8
# Smallest squared distance used for a weight: keeps 1/score**2 finite for an exact match.
_MIN_SCORE = 1e-12


@dataclasses.dataclass
class FeatureIndex:
    """A loaded RVC index: the FAISS searcher and the vectors it holds (``big_npy``)."""

    index: object  # faiss.Index
    vectors: np.ndarray  # (ntotal, dim) float32
    path: Path | None = None

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def ntotal(self) -> int:
        return int(self.vectors.shape[0])

    def check_dim(self, version: str) -> None:
        """Raise ``index_invalid`` unless this index fits a model of this version."""
        want = FEATURE_DIMS.get(version)
        if want is not None and self.dim != want:
            name = self.path.name if self.path else "the index"
            raise PersonaError(
                "index_invalid",
                f"{name} holds {self.dim}-dimensional features but this {version} model uses "
                f"{want}-dimensional ones; pick the index trained with this model",
            )

    def retrieve(self, feats: np.ndarray, k: int = K_NEIGHBOURS) -> np.ndarray:
        """The weighted average of each frame's k nearest stored vectors, (frames, dim) float32."""
        query = np.ascontiguousarray(feats, dtype=np.float32)
        score, ix = self.index.search(query, k)
        valid = ix >= 0
        score = np.where(valid, np.maximum(score, _MIN_SCORE), 1.0).astype(np.float32)
        weight = np.square(1 / score)
        weight[~valid] = 0.0
        weight /= weight.sum(axis=1, keepdims=True)
        gathered = self.vectors[np.where(valid, ix, 0)]
        return np.sum(gathered * np.expand_dims(weight, axis=2), axis=1)

    def blend(self, feats: np.ndarray, index_rate: float) -> np.ndarray:
        """RVC's blend: ``retrieved * index_rate + feats * (1 - index_rate)``."""
        retrieved = self.retrieve(feats)
        return retrieved * index_rate + (1 - index_rate) * feats


def load_index(path: str | os.PathLike[str], version: str | None = None) -> FeatureIndex:
    """Read an RVC ``.index`` file. Raises PersonaError ``index_invalid`` (or ``index_missing``)."""
    import faiss

    from persona.rvc.index_file import check_index_file

    path = Path(path)
    if not path.is_file():
        raise PersonaError("index_missing", f"index file not found: {path}", status=404)
    check_index_file(path)  # every length checked against the file first: no allocation bomb
    try:
        index = faiss.read_index(str(path))
    except Exception as exc:  # faiss raises RuntimeError with a C++ trace for any bad file
        raise PersonaError(
            "index_invalid", f"{path.name} is not a FAISS index file (cannot be read)"
        ) from exc
    if index.ntotal == 0:
        hint = " (this is the 'trained_' file; use the 'added_' index)" if "trained" in path.name else ""
        raise PersonaError("index_invalid", f"{path.name} holds no feature vectors{hint}")
    try:
        vectors = index.reconstruct_n(0, index.ntotal)
    except Exception as exc:
        raise PersonaError("index_invalid", f"cannot read the vectors stored in {path.name}") from exc
    loaded = FeatureIndex(index=index, vectors=np.ascontiguousarray(vectors, dtype=np.float32), path=path)
    if loaded.dim not in FEATURE_DIMS.values():
        raise PersonaError(
            "index_invalid",
            f"{path.name} holds {loaded.dim}-dimensional vectors; RVC indexes hold 256 (v1) or 768 (v2)",
        )
    if version is not None:
        loaded.check_dim(version)
    return loaded
