"""persona.rvc.index: RVC-format FAISS indexes, retrieval numerics, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from persona.errors import PersonaError
from persona.rvc.index import FeatureIndex, load_index
from persona.testing.index import random_features, write_rvc_index


def _rvc_retrieve(index, big_npy, npy, index_rate):
    # RVC's formula, written out: weights 1/score**2 over k=8 neighbours, then blend.
    score, ix = index.search(npy, k=8)
    weight = np.square(1 / score)
    weight /= weight.sum(axis=1, keepdims=True)
    out = np.sum(big_npy[ix] * np.expand_dims(weight, axis=2), axis=1)
    return out * index_rate + (1 - index_rate) * npy


@pytest.mark.parametrize("dim,version", [(768, "v2"), (256, "v1")])
def test_load_and_blend_matches_rvc_formula(tmp_path, dim, version):
    feats = random_features(500, dim, seed=1)
    added, _ = write_rvc_index(tmp_path, feats, exp_name="voice")
    assert added.name.startswith("added_IVF") and added.name.endswith(f"_voice_{version}.index")
    idx = load_index(added, version)
    assert idx.ntotal == 500 and idx.dim == dim
    # big_npy holds the same vectors (shuffled order, as RVC writes them)
    assert np.allclose(np.sort(idx.vectors.sum(1)), np.sort(feats.sum(1)), atol=1e-3)
    query = random_features(40, dim, seed=2) + 0.05
    got = idx.blend(query, 0.75)
    want = _rvc_retrieve(idx.index, idx.vectors, query, 0.75)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    # index_rate 0 leaves features alone; 1 replaces them by retrieved ones
    np.testing.assert_allclose(idx.blend(query, 0.0), query, atol=1e-6)
    assert not np.allclose(idx.blend(query, 1.0), query, atol=1e-2)


def test_exact_match_and_missing_neighbours_stay_finite(tmp_path):
    feats = random_features(100, 256, seed=3)
    added, _ = write_rvc_index(tmp_path, feats)
    idx = load_index(added)
    out = idx.retrieve(feats[:5])  # distance 0 to itself
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, feats[:5], atol=1e-4)
    # a flat index with fewer than k vectors returns label -1 for missing neighbours
    import faiss

    flat = faiss.IndexFlatL2(256)
    flat.add(feats[:3])
    small = FeatureIndex(index=flat, vectors=feats[:3].copy())
    res = small.retrieve(feats[:2] + 0.01)
    assert np.isfinite(res).all()


def test_dimension_mismatch_is_clear(tmp_path):
    added, _ = write_rvc_index(tmp_path, random_features(200, 256))
    with pytest.raises(PersonaError) as err:
        load_index(added, "v2")
    assert err.value.code == "index_invalid"
    assert "256" in err.value.message and "768" in err.value.message


def test_trained_index_is_refused(tmp_path):
    _, trained = write_rvc_index(tmp_path, random_features(200, 768))
    with pytest.raises(PersonaError) as err:
        load_index(trained, "v2")
    assert err.value.code == "index_invalid"
    assert "added_" in err.value.message


def test_bad_and_missing_files(tmp_path):
    bad = tmp_path / "added_IVF1_Flat_nprobe_1_x_v2.index"
    bad.write_bytes(b"this is not faiss")
    with pytest.raises(PersonaError) as err:
        load_index(bad)
    assert err.value.code == "index_invalid"
    empty = tmp_path / "empty.index"
    empty.write_bytes(b"")
    with pytest.raises(PersonaError):
        load_index(empty)
    with pytest.raises(PersonaError) as err:
        load_index(tmp_path / "nope.index")
    assert err.value.code == "index_missing"
