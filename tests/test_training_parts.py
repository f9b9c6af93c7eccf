"""Training's building blocks against RVC's definitions: mel, losses, sampler, f0 bins, index."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from persona.training import index as index_mod
from persona.training.config import training_config
from persona.training.data import BucketBatchSampler
from persona.training.features import voice_profile
from persona.training.losses import discriminator_loss, feature_loss, generator_loss, kl_loss
from persona.training.mel import mel_spectrogram, spec_to_mel, spectrogram


def test_spectrogram_frames_and_floor():
    y = torch.zeros(1, 4000)
    spec = spectrogram(y, 2048, 400, 2048)
    assert spec.shape == (1, 1025, 10)  # (n + n_fft - hop - n_fft) // hop + 1 frames, no centring
    assert torch.allclose(spec, torch.full_like(spec, 2e-7**0.5))
    mel = mel_spectrogram(y, 2048, 125, 40000, 400, 2048, 0.0, None)
    assert mel.shape == (1, 125, 10) and torch.isfinite(mel).all()
    floor = spec_to_mel(torch.zeros(1, 1025, 3), 2048, 125, 40000, 0.0, None)
    assert torch.allclose(floor, torch.full_like(floor, np.log(2e-6)))  # clamped at RVC's 2e-6


def test_spectrogram_peaks_at_the_tone():
    sr, f = 40000, 1000.0
    t = torch.arange(8000) / sr
    spec = spectrogram(torch.sin(2 * np.pi * f * t).unsqueeze(0), 2048, 400, 2048)
    assert int(spec[0, :, 5].argmax()) == round(f / sr * 2048)


def test_losses_match_their_definitions():
    real = [torch.ones(2, 3), torch.full((2, 4), 0.5)]
    fake = [torch.zeros(2, 3), torch.full((2, 4), 0.5)]
    d, r_parts, g_parts = discriminator_loss(real, fake)
    assert r_parts == [0.0, 0.25] and g_parts == [0.0, 0.25]
    assert float(d) == pytest.approx(0.5)
    g, parts = generator_loss(fake)
    assert float(g) == pytest.approx(1.0 + 0.25)
    fm = feature_loss([[torch.ones(3)], [torch.zeros(2)]], [[torch.zeros(3)], [torch.ones(2)]])
    assert float(fm) == pytest.approx(2 * (1 + 1))
    z = torch.randn(2, 4, 5)
    logs = torch.randn(2, 4, 5) * 0.1
    mask = torch.ones(2, 1, 5)
    # q == p and z at the mean: KL terms are logs_p - logs_q - 0.5 = -0.5 per element.
    assert float(kl_loss(z, logs, z, logs, mask)) == pytest.approx(-0.5 * 4)


def test_bucket_sampler_groups_lengths_and_pads_buckets():
    lengths = [150, 160, 170, 450, 460, 50, 950]  # 50 and 950 fall outside RVC's buckets
    sampler = BucketBatchSampler(lengths, batch_size=2)
    sampler.set_epoch(3)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 3  # bucket of 3 padded to 4, bucket of 2
    for b in batches:
        assert len(b) == 2
        assert len({lengths[i] // 100 for i in b}) == 1
    used = {i for b in batches for i in b}
    assert used == {0, 1, 2, 3, 4}
    sampler.set_epoch(3)
    assert list(sampler) == batches  # the shuffle depends only on the epoch


def test_voice_profile_percentiles():
    vp = voice_profile(np.linspace(100, 300, 201))
    assert vp == {"median_hz": 200.0, "p5_hz": 110.0, "p95_hz": 290.0}


def test_tiny_and_full_configs_keep_rvc_framing():
    full = training_config("48k")
    assert full.export_config()[0] == 1025 and full.export_config()[-1] == 48000
    assert full.train.segment_size == 17280 and full.data.hop_length == 480
    assert np.prod(full.model.upsample_rates) == full.data.hop_length
    tiny = training_config("32k", "tiny")
    assert tiny.data == training_config("32k").data
    assert np.prod(tiny.model.upsample_rates) == 320
    with pytest.raises(ValueError):
        training_config("40k", nonsense=1)


@pytest.mark.parametrize(
    ("n", "expected"),
    [(10, 1), (39 * 50, 50), (100_000, 100_000 // 39), (1_000_000, int(16 * np.sqrt(1_000_000)))],
)
def test_ivf_size_rule(n, expected):
    assert index_mod.n_ivf_for(n) == expected


def test_index_is_built_and_named_as_rvc(tmp_path):
    import faiss

    rng = np.random.default_rng(0)
    files = []
    for i in range(3):
        p = tmp_path / f"{i}.npy"
        np.save(p, rng.standard_normal((400, 768)).astype(np.float32))
        files.append(p)
    path = index_mod.build_index(files, tmp_path / "out", "목소리", seed=0)
    assert re.fullmatch(r"added_IVF30_Flat_nprobe_1_목소리_v2\.index", path.name)
    idx = faiss.read_index(str(path))
    assert idx.ntotal == 1200 and idx.d == 768
    assert faiss.extract_index_ivf(idx).nprobe == 1


def test_large_feature_sets_are_reduced_by_kmeans(tmp_path, monkeypatch):
    import faiss

    monkeypatch.setattr(index_mod, "KMEANS_ABOVE", 500)
    monkeypatch.setattr(index_mod, "KMEANS_CENTRES", 64)
    p = tmp_path / "f.npy"
    np.save(p, np.random.default_rng(1).standard_normal((800, 768)).astype(np.float32))
    path = index_mod.build_index([p], tmp_path, "big", seed=0)
    assert faiss.read_index(str(path)).ntotal == 64
    assert path.name == f"added_IVF{index_mod.n_ivf_for(64)}_Flat_nprobe_1_big_v2.index"


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny nets on a busy 2-core machine: more threads only thrash
    yield
    torch.set_num_threads(before)


@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("rate", ["32k", "48k"])
def test_other_rates_train_and_export_loadable_models(rate, tmp_path):

    from persona.rvc.voice_model import load_voice_model
    from persona.testing.training import build_pretrained, write_examples
    from persona.training import loop
    from persona.training.export import export_small_model

    cfg = training_config(rate, "tiny")
    sr = cfg.data.sampling_rate
    examples = write_examples(tmp_path, sr)
    g, d = build_pretrained(rate, "tiny")
    out = loop.run(
        cfg,
        examples,
        tmp_path,
        epochs=1,
        batch_size=2,
        save_every=1,
        pretrained=(g.state_dict(), d.state_dict()),
    )
    assert out.epochs_done == 1 and np.isfinite(out.history[0]["loss_mel"])
    path = export_small_model(out.net_g, cfg, 1, tmp_path / "m.pth")
    vm = load_voice_model(path)
    assert vm.tgt_sr == sr and vm.version == "v2" and vm.f0
