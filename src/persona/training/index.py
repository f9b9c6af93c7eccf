"""Build the retrieval index of a trained voice, as RVC's `train/train_index.py` does.

All feature frames are stacked and shuffled; above 200,000 frames they are reduced to 10,000
k-means centres (scikit-learn's MiniBatchKMeans, random init, batch 256 x CPU count); an
``IVF<n>,Flat`` index with ``n = max(1, min(int(16 * sqrt(N)), N // 39))`` and nprobe 1 is
trained on them and then filled in batches of 8192. The file is named
``added_IVF<n>_Flat_nprobe_1_<name>_v2.index`` so RVC and other tools recognise it.
Differs in: the index is written atomically; only the ``added_`` file is kept; a Stop does not
wait for the k-means or FAISS's training (``persona.interrupt.outside``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from persona.fsutil import atomic_path
from persona.interrupt import outside
from persona.messages import msg
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress

KMEANS_ABOVE = 200_000
KMEANS_CENTRES = 10_000


def n_ivf_for(n: int) -> int:
    return max(1, min(int(16 * np.sqrt(n)), n // 39))


def index_name(n_ivf: int, name: str, version: str = "v2") -> str:
    return f"added_IVF{n_ivf}_Flat_nprobe_1_{name}_{version}.index"


def build_index(
    feature_files: Sequence[Path],
    out_dir: Path,
    name: str,
    *,
    version: str = "v2",
    seed: int | None = None,
    progress: ProgressFn = null_progress,
    cancel: CancelToken = NEVER_CANCELLED,
) -> Path:
    """Write the index for these ``(frames, dim)`` .npy feature files; returns its path."""
    import faiss

    feats = np.concatenate([np.load(p) for p in sorted(feature_files)], axis=0).astype(np.float32)
    rng = np.random.default_rng(seed)
    big = feats[rng.permutation(feats.shape[0])]
    if big.shape[0] > KMEANS_ABOVE:
        from sklearn.cluster import MiniBatchKMeans

        progress("index", 0.1, msg("index_build"))
        kmeans = MiniBatchKMeans(
            n_clusters=KMEANS_CENTRES,
            batch_size=256 * (os.cpu_count() or 1),
            compute_labels=False,
            init="random",
            random_state=seed,
        )
        big = outside(lambda: kmeans.fit(big).cluster_centers_.astype(np.float32), cancel)
    cancel.check()
    n_ivf = n_ivf_for(big.shape[0])
    index = faiss.index_factory(big.shape[1], f"IVF{n_ivf},Flat")
    faiss.extract_index_ivf(index).nprobe = 1
    progress("index", 0.4, msg("index_build"))

    def train_and_fill() -> None:
        index.train(big)
        for start in range(0, big.shape[0], 8192):
            index.add(big[start : start + 8192])

    outside(train_and_fill, cancel)  # an hour of voice trains for minutes: a Stop does not wait
    target = Path(out_dir) / index_name(n_ivf, name, version)
    with atomic_path(target) as tmp:
        faiss.write_index(index, str(tmp))
    progress("index", 1.0)
    return target
