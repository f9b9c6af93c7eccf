"""RMVPE: mel front end equals librosa's, rmvpe.pt loads strictly (any size), parity with RVC."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from persona.errors import PersonaError
from persona.rvc.f0 import compute_f0
from persona.rvc.f0.rmvpe import E2E, RMVPE, decode, e2e_sizes, mel_filterbank
from persona.testing.content import TINY_RMVPE, write_rmvpe

REF = Path(__file__).parent / "data" / "reference"


@pytest.fixture(scope="module")
def rmvpe_pt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_rmvpe(tmp_path_factory.mktemp("rmvpe") / "rmvpe.pt", seed=0, tiny=True)


def test_mel_filterbank_equals_librosa() -> None:
    import librosa

    ours = mel_filterbank()
    ref = librosa.filters.mel(sr=16000, n_fft=1024, n_mels=128, fmin=30, fmax=8000, htk=True)
    assert ours.dtype == ref.dtype and ours.shape == (128, 513)
    np.testing.assert_array_equal(ours, ref)


def test_sizes_inferred_from_state_dict() -> None:
    full = E2E().state_dict()
    assert e2e_sizes(full) == {
        "n_blocks": 4, "n_gru": 1, "en_de_layers": 5, "inter_layers": 4, "en_out_channels": 16, "gru_hidden": 256,
    }  # fmt: skip
    assert e2e_sizes(E2E(**TINY_RMVPE).state_dict()) == TINY_RMVPE
    assert sum(v.numel() for v in full.values()) > 20_000_000  # RVC's full-size network


def test_decode_local_average_and_threshold() -> None:
    sal = np.zeros((3, 360), dtype=np.float32)
    sal[0, 100] = 0.9
    sal[1, 200] = 0.5
    sal[1, 201] = 0.5
    sal[2, 50] = 0.02  # below the 0.03 threshold
    f0 = decode(sal, 0.03)
    cents0 = 20 * 100 + 1997.3794084376191
    assert f0[0] == pytest.approx(10 * 2 ** (cents0 / 1200))
    assert f0[1] == pytest.approx(10 * 2 ** ((20 * 200.5 + 1997.3794084376191) / 1200))
    assert f0[2] == 0


def test_frames_and_shape(rmvpe_pt: Path) -> None:
    model = RMVPE.from_path(rmvpe_pt)
    x = np.random.RandomState(0).randn(16000).astype(np.float32) * 0.1
    f0 = model.infer_from_audio(x)
    assert f0.shape == (101,)  # centred STFT: 1 + n // 160


@pytest.mark.parametrize("case", ["garbage", "truncated", "wrong_keys", "pickle_code", "missing"])
def test_bad_rmvpe_files(tmp_path: Path, rmvpe_pt: Path, case: str) -> None:
    bad = tmp_path / "rmvpe.pt"
    if case == "garbage":
        bad.write_bytes(b"\x00\x01 not torch" * 50)
    elif case == "truncated":
        bad.write_bytes(rmvpe_pt.read_bytes()[:5000])
    elif case == "wrong_keys":
        sd = torch.load(rmvpe_pt, weights_only=True)
        sd.pop("cnn.weight")
        torch.save(sd, bad)
    elif case == "pickle_code":

        class Evil:
            def __reduce__(self):  # noqa: ANN204
                return (exec, ("raise SystemExit('pickle code ran')",))

        torch.save({"x": Evil()}, bad)
    expected = "asset_missing" if case == "missing" else "asset_invalid"
    with pytest.raises(PersonaError) as err:
        compute_f0("rmvpe", np.zeros(1600), p_len=10, pitch=0, filter_radius=3, rmvpe_path=bad)
    assert err.value.code == expected


@pytest.mark.reference
def test_matches_reference_rvc(rmvpe_pt: Path) -> None:
    ref = np.load(REF / "f0_rmvpe_tiny_seed0.npz")
    x = ref["audio"].astype(np.float64)
    raw = RMVPE.from_path(rmvpe_pt).infer_from_audio(x, thred=0.03)
    np.testing.assert_allclose(raw, ref["raw"], rtol=1e-5)
    c, f = compute_f0(
        "rmvpe",
        x,
        p_len=len(x) // 160,
        pitch=float(ref["pitch"]),
        filter_radius=3,
        rmvpe_path=rmvpe_pt,
        unvoiced="interpolate",  # RVC 2026 made the reference
    )
    np.testing.assert_allclose(f, ref["f0"], rtol=1e-5)
    assert np.mean(c == ref["coarse"]) > 0.99 and np.abs(c - ref["coarse"]).max() <= 1


def test_unusable_audio_gives_clear_errors(rmvpe_pt: Path) -> None:
    with pytest.raises(PersonaError) as err:
        compute_f0("rmvpe", np.zeros(300), p_len=1, pitch=0, filter_radius=3, rmvpe_path=rmvpe_pt)
    assert err.value.code == "f0_failed" and "rmvpe" in err.value.message  # shorter than the STFT window
    bad = np.zeros(1600)
    bad[5] = np.nan
    with pytest.raises(PersonaError) as err:
        compute_f0("pm", bad, p_len=10, pitch=0, filter_radius=3)
    assert err.value.code == "audio_invalid"
