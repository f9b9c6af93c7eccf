"""RVC synthesizers and discriminators: names, parity with the reference, noise control, dtypes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from persona.rvc.models import (
    MultiPeriodDiscriminator,
    MultiPeriodDiscriminatorV2,
    SynthesizerTrnMs256NSFsid,
    SynthesizerTrnMs768NSFsid_nono,
    build_synthesizer,
    discriminator_for,
    standard_config,
)
from persona.rvc.nn.weightnorm import canonical_weight_names
from persona.testing.rvc import build_random_synthesizer, random_inputs, tiny_config

REF = Path(__file__).parent / "data" / "reference"
INFER_CASES = sorted(p.name for p in REF.glob("synth_v*.npz"))
TRAIN_CASES = sorted(p.name for p in REF.glob("synth_train_*.npz"))
TOL = 1e-4


def _load_case(name: str):
    d = np.load(REF / name)
    config = json.loads(str(d["config"]))
    version, f0 = str(d["version"]), bool(int(d["f0"]))
    net = build_random_synthesizer(config, version, f0, int(d["weight_seed"]))
    checksum = sum(float(v.double().abs().sum()) for v in net.state_dict().values())
    assert checksum == pytest.approx(float(d["weights_checksum"]), rel=1e-9), "test weights drifted"
    return d, config, version, f0, net


def _t(a: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(np.asarray(a))
    return t.float() if t.is_floating_point() else t


def test_reference_cases_present() -> None:
    assert {
        "synth_v1_f0_40k.npz",
        "synth_v2_f0_48k.npz",
        "synth_v1_nof0_40k.npz",
        "synth_v2_nof0_48k.npz",
    } <= set(INFER_CASES)
    assert TRAIN_CASES


@pytest.mark.reference
@pytest.mark.parametrize("name", INFER_CASES)
def test_infer_matches_reference(name: str) -> None:
    d, config, version, f0, net = _load_case(name)
    assert list(net.state_dict()) == [str(k) for k in d["state_keys"]]  # RVC's names and order
    args = [_t(d["phone"]), _t(d["phone_lengths"])]
    if f0:
        args += [_t(d["pitch"]), _t(d["nsff0"])]
    args.append(_t(d["sid"]))
    kw = {"z_noise": _t(d["z_noise"])}
    if f0:
        kw["source_noise"] = _t(d["source_noise"])
    with torch.no_grad():
        out = net.infer(*args, **kw)[0]
    ref = d["out"]
    assert out.shape == ref.shape == (1, 1, int(d["phone_lengths"][0]) * int(np.prod(config[12])))
    assert np.abs(ref).max() > 0.05  # the case is not trivially silent
    assert np.abs(out.numpy() - ref).max() < TOL

    # The sliced path (skip_head/return_length) with noise from the same global seed as RVC's.
    with torch.no_grad():
        torch.manual_seed(int(d["skip_noise_seed"]))
        out = net.infer(*args, skip_head=int(d["skip_head"]), return_length=int(d["return_length"]))[0]
    assert out.shape == d["out_skip"].shape
    assert np.abs(out.numpy() - d["out_skip"]).max() < TOL


@pytest.mark.reference
@pytest.mark.parametrize("name", TRAIN_CASES)
def test_training_forward_matches_reference(name: str) -> None:
    d, config, version, f0, net = _load_case(name)
    net.train()
    lengths = _t(d["lengths"])
    args = [_t(d["phone"]), lengths]
    if f0:
        args += [_t(d["pitch"]), _t(d["pitchf"])]
    args += [_t(d["spec"]), lengths, _t(d["ds"])]
    kw = {"posterior_noise": _t(d["posterior_noise"]), "slice_starts": _t(d["ids_slice"])}
    if f0:
        kw["source_noise"] = _t(d["source_noise"])
    o, ids_slice, x_mask, y_mask, (z, z_p, m_p, logs_p, m_q, logs_q) = net(*args, **kw)
    assert ids_slice.tolist() == d["ids_slice"].tolist()
    for got, key in [(o, "o"), (z, "z"), (z_p, "z_p"), (m_p, "m_p"), (logs_p, "logs_p"), (m_q, "m_q")]:
        # z reaches ~170 here: float32 rounding then differs by CPU kernel, so the bound scales.
        bound = TOL * max(1.0, float(np.abs(d[key]).max()))
        assert np.abs(got.detach().numpy() - d[key]).max() < bound, key
    assert o.shape == (2, 1, config[1] * int(np.prod(config[12])))
    # Gradients flow through the decoder and the posterior encoder (training helper relies on it).
    (o.pow(2).mean() + z_p.pow(2).mean()).backward()
    assert net.dec.conv_pre.weight.grad is not None and net.enc_q.pre.weight.grad is not None


def test_generator_gives_reproducible_noise() -> None:
    cfg = tiny_config("40k", "v2", True)
    net = build_random_synthesizer(cfg, "v2", True, seed=3)
    inp = random_inputs(cfg, "v2", frames=20, seed=4)
    args = (inp["phone"], inp["phone_lengths"], inp["pitch"], inp["nsff0"], inp["sid"])
    with torch.no_grad():
        a = net.infer(*args, generator=torch.Generator().manual_seed(1))[0]
        b = net.infer(*args, generator=torch.Generator().manual_seed(1))[0]
        c = net.infer(*args, generator=torch.Generator().manual_seed(2))[0]
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert a.shape == (1, 1, 20 * 400)


def test_return_length2_resamples_output() -> None:
    cfg = tiny_config("48k", "v2", False)
    net = build_random_synthesizer(cfg, "v2", False, seed=3)
    inp = random_inputs(cfg, "v2", frames=20, seed=4)
    with torch.no_grad():
        out = net.infer(inp["phone"], inp["phone_lengths"], inp["sid"], return_length2=25)[0]
    assert out.shape == (1, 1, 25 * 480)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_inference_runs(dtype: torch.dtype) -> None:
    """model.to(dtype) works end to end (CUDA uses fp16; CPU checks the dtype plumbing)."""
    cfg = tiny_config("40k", "v1", True)
    net = build_random_synthesizer(cfg, "v1", True, seed=5, with_posterior=False)
    inp = random_inputs(cfg, "v1", frames=16, seed=6)
    with torch.no_grad():
        ref = net.infer(
            inp["phone"],
            inp["phone_lengths"],
            inp["pitch"],
            inp["nsff0"],
            inp["sid"],
            generator=torch.Generator().manual_seed(0),
        )[0]
        low = net.to(dtype)
        try:
            out = low.infer(
                inp["phone"].to(dtype),
                inp["phone_lengths"],
                inp["pitch"],
                inp["nsff0"],
                inp["sid"],
                generator=torch.Generator().manual_seed(0),
            )[0]
        except RuntimeError as exc:  # some CPU builds lack a half kernel
            pytest.skip(f"no {dtype} kernel on this CPU: {exc}")
    assert out.dtype == dtype
    assert torch.isfinite(out.float()).all()
    # Same noise, lower precision: close to float32, far from unrelated noise.
    assert (out.float() - ref).abs().mean() < 0.25 * ref.abs().mean() + 1e-3


def test_full_size_configs_build_with_rvc_shapes() -> None:
    with torch.device("meta"):  # shapes only: no memory, no init time
        _check_full_size_shapes()


def _check_full_size_shapes() -> None:
    net = build_synthesizer(standard_config("40k", "v2"), "v2", True)
    sd = net.state_dict()
    assert sd["enc_p.emb_phone.weight"].shape == (192, 768)
    assert sd["dec.ups.0.weight_v"].shape == (512, 256, 16)
    assert sd["dec.noise_convs.0.weight"].shape == (256, 1, 80)
    assert sd["dec.m_source.l_linear.weight"].shape == (1, 1)
    assert sd["flow.flows.0.enc.cond_layer.weight_g"].shape == (2 * 192 * 3, 1, 1)
    assert sd["enc_q.pre.weight"].shape == (192, 1025, 1)
    assert list(sd)[-1].startswith("enc_p.")  # RVC's v2 registers enc_p last
    assert list(SynthesizerTrnMs256NSFsid(*standard_config("48k", "v1")).state_dict())[0].startswith("enc_p.")
    nono = SynthesizerTrnMs768NSFsid_nono(*standard_config("32k", "v2"))
    assert not any("emb_pitch" in k or "m_source" in k for k in nono.state_dict())


def test_constructor_accepts_rvc_training_kwargs() -> None:
    """RVC's train.py calls Synth(spec, segment, **hps.model, is_half=..., sr=...)."""
    model = {
        "inter_channels": 8, "hidden_channels": 16, "filter_channels": 32, "n_heads": 2, "n_layers": 1,
        "kernel_size": 3, "p_dropout": 0, "resblock": "1", "resblock_kernel_sizes": [3],
        "resblock_dilation_sizes": [[1, 3, 5]], "upsample_rates": [10, 10, 2, 2],
        "upsample_initial_channel": 32, "upsample_kernel_sizes": [16, 16, 4, 4],
        "use_spectral_norm": False, "gin_channels": 8, "spk_embed_dim": 2,
    }  # fmt: skip
    net = SynthesizerTrnMs256NSFsid(1025, 32, **model, is_half=False, sr="40k")
    assert net.hop_length == 400 and net.sampling_rate == 40000 and net.segment_size == 32


@pytest.mark.parametrize(
    "version,cls,n", [("v1", MultiPeriodDiscriminator, 7), ("v2", MultiPeriodDiscriminatorV2, 9)]
)
def test_discriminators(version: str, cls: type, n: int) -> None:
    with torch.device("meta"):
        sd = cls().state_dict()
    assert sd["discriminators.0.convs.1.weight_v"].shape == (64, 4, 41)
    assert sd["discriminators.1.convs.4.weight_v"].shape == (1024, 1024, 5, 1)
    assert "discriminators.1.conv_post.weight_g" in sd
    small = discriminator_for(version, channel_divisor=16)
    assert isinstance(small, cls)
    y, y_hat = torch.randn(2, 1, 1000), torch.randn(2, 1, 1000)
    y_d_rs, y_d_gs, fmap_rs, fmap_gs = small(y, y_hat)
    assert len(y_d_rs) == len(y_d_gs) == len(fmap_rs) == len(fmap_gs) == n
    assert all(len(f) == 7 for f in fmap_rs[:1]) and all(len(f) == 6 for f in fmap_rs[1:])
    assert y_d_rs[0].shape[0] == 2


def test_parametrization_names_map_to_rvc_names() -> None:
    state = {
        "dec.ups.0.parametrizations.weight.original0": 1,
        "dec.ups.0.parametrizations.weight.original1": 2,
        "dec.ups.0.bias": 3,
    }
    assert canonical_weight_names(state) == {
        "dec.ups.0.weight_g": 1,
        "dec.ups.0.weight_v": 2,
        "dec.ups.0.bias": 3,
    }


@pytest.mark.parametrize("sr,version,f0", [("40k", "v2", True), ("48k", "v1", True), ("32k", "v2", False)])
def test_chunked_decode_equals_whole_decode(sr: str, version: str, f0: bool) -> None:
    """Inference decodes long latents in chunks with context margins: the same audio."""
    cfg = tiny_config(sr, version, f0)
    net = build_random_synthesizer(cfg, version, f0, seed=7, with_posterior=False)
    inp = random_inputs(cfg, version, frames=260, seed=8)
    args = (inp["phone"], inp["phone_lengths"], inp["pitch"], inp["nsff0"], inp["sid"])
    if not f0:
        args = (inp["phone"], inp["phone_lengths"], inp["sid"])

    def run(chunk: int, margin: int | None = None) -> torch.Tensor:
        net.dec.infer_chunk_frames = chunk
        saved = net.dec.margin
        if margin is not None:
            net.dec.margin = margin
        try:
            with torch.no_grad():
                return net.infer(*args, generator=torch.Generator().manual_seed(1))[0]
        finally:
            net.dec.margin = saved

    whole = run(0)
    assert 10 < net.dec.margin < 60  # RVC's decoders reach ~12 frames either side, plus safety
    chunked = run(37)
    assert chunked.shape == whole.shape
    assert (chunked - whole).abs().max() < 1e-5
    # Without the margin the chunk seams show: the margin is what makes them equal.
    assert (run(37, margin=0) - whole).abs().max() > 1e-3


def test_training_decodes_in_one_pass() -> None:
    cfg = tiny_config("40k", "v2", True)
    net = build_random_synthesizer(cfg, "v2", True, seed=7, with_posterior=False)
    net.dec.infer_chunk_frames = 4
    from persona.rvc.nn.generators import _chunked

    assert _chunked(net.dec, 200) == 4
    net.train()
    assert _chunked(net.dec, 200) == 0


@pytest.mark.parametrize("t", [15, 300])
def test_blocked_inference_attention_equals_full_attention(t: int, monkeypatch) -> None:
    """Without autograd the text encoder attends in query blocks with banded relative terms."""
    import persona.rvc.nn.attentions as attentions

    torch.manual_seed(0)
    attn = attentions.MultiHeadAttention(32, 32, 2, 0.0, window_size=10).eval()
    x = torch.randn(1, 32, t)
    mask = torch.ones(1, 1, t, t)
    mask[..., t - t // 5 :] = 0
    mask[..., t - t // 5 :, :] = 0
    with torch.enable_grad():  # the full (t, 2t-1) computation RVC does
        full = attn(x, mask).detach()
    monkeypatch.setattr(attentions, "_BLOCK_ELEMENTS", 2 * 70 * t)  # several blocks for t=300
    with torch.no_grad():
        blocked = attn(x, mask)
    assert blocked.shape == full.shape
    assert (blocked - full).abs().max() < 1e-5
    assert not torch.equal(full, attn(x * 1.5, mask).detach())  # the comparison can fail
