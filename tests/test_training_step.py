"""One training step (``loop.train_step``) against RVC's ``train_and_evaluate`` written out plainly.

The step may be organised for speed (what it skips must not change a number), so the reference
here is RVC's order of operations verbatim: the discriminator on the detached output, its AdamW
step, then the generator's loss through a discriminator that keeps computing its own weight
gradients (RVC throws them away at the next ``zero_grad``), plain AdamW. Same nets, same batch,
same seed: the losses and every weight after two steps must be equal.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from persona.testing.training import random_batch
from persona.training import loop
from persona.training.config import training_config
from persona.training.losses import discriminator_loss, feature_loss, generator_loss, kl_loss
from persona.training.mel import mel_spectrogram, spec_to_mel


def _rvc_step(net_g, net_d, optim_g, optim_d, batch, cfg) -> dict[str, float]:
    d, hp = cfg.data, cfg.train
    phone, phone_len, pitch, pitchf, spec, spec_len, wave, _wl, sid = batch
    y_hat, ids, _xm, z_mask, (_z, z_p, m_p, logs_p, _mq, logs_q) = net_g(
        phone, phone_len, pitch, pitchf, spec, spec_len, sid
    )
    mel = spec_to_mel(spec, d.filter_length, d.n_mel_channels, d.sampling_rate, d.mel_fmin, d.mel_fmax)
    y_mel = loop.slice_segments(mel, ids, cfg.segment_frames)
    y_hat_mel = mel_spectrogram(
        y_hat.float().squeeze(1), d.filter_length, d.n_mel_channels, d.sampling_rate,
        d.hop_length, d.win_length, d.mel_fmin, d.mel_fmax,
    )  # fmt: skip
    wave = loop.slice_segments(wave, ids * d.hop_length, hp.segment_size)
    y_d_r, y_d_g, _, _ = net_d(wave, y_hat.detach())
    loss_disc, _, _ = discriminator_loss(y_d_r, y_d_g)
    optim_d.zero_grad()
    loss_disc.backward()
    grad_d = loop.grad_norm(net_d.parameters())
    optim_d.step()
    _, y_d_g, fmap_r, fmap_g = net_d(wave, y_hat)
    loss_mel = F.l1_loss(y_mel, y_hat_mel) * hp.c_mel
    loss_kl = kl_loss(z_p, logs_q, m_p, logs_p, z_mask) * hp.c_kl
    loss_fm = feature_loss(fmap_r, fmap_g)
    loss_gen, _ = generator_loss(y_d_g)
    optim_g.zero_grad()
    (loss_gen + loss_fm + loss_mel + loss_kl).backward()
    grad_g = loop.grad_norm(net_g.parameters())
    optim_g.step()
    return {
        "loss_disc": loss_disc.item(),
        "loss_gen": loss_gen.item(),
        "loss_fm": loss_fm.item(),
        "loss_mel": loss_mel.item(),
        "loss_kl": loss_kl.item(),
        "grad_norm_g": grad_g,
        "grad_norm_d": grad_d,
    }


def test_train_step_equals_rvcs_step_in_every_loss_and_weight():
    cfg = training_config("40k", "tiny")
    torch.manual_seed(0)
    net_g, net_d = loop.build_nets(cfg)
    ref_g, ref_d = copy.deepcopy(net_g), copy.deepcopy(net_d)
    for net in (net_g, net_d, ref_g, ref_d):
        net.train()
    optim_g, optim_d = loop.make_optimizers(net_g, net_d, cfg)
    ref_optim_g, ref_optim_d = loop.make_optimizers(ref_g, ref_d, cfg)
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    dev = torch.device("cpu")
    for step in range(2):
        batch = random_batch(cfg, seed=step)
        torch.manual_seed(100 + step)  # the random slice and the flow's noise
        ours = loop.train_step(net_g, net_d, optim_g, optim_d, scaler, batch, cfg, dev)
        torch.manual_seed(100 + step)
        ref = _rvc_step(ref_g, ref_d, ref_optim_g, ref_optim_d, batch, cfg)
        assert ours == ref, step
    for (name, p), q in zip(
        [*net_g.named_parameters(), *net_d.named_parameters()],
        [*ref_g.parameters(), *ref_d.parameters()],
        strict=True,
    ):
        assert torch.equal(p, q), name
        assert p.requires_grad, name  # the discriminator is trainable again after the step


def test_a_stop_inside_a_step_leaves_the_generator_untouched():
    """A Stop is looked at between the step's passes (a CPU step takes seconds, issue 25 item 3):
    raised before the discriminator's pass, nothing moves; the loop then keeps the last save."""
    from persona.progress import CancelToken

    cfg = training_config("40k", "tiny")
    torch.manual_seed(0)
    net_g, net_d = loop.build_nets(cfg)
    optim_g, optim_d = loop.make_optimizers(net_g, net_d, cfg)
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    before = [p.detach().clone() for p in [*net_g.parameters(), *net_d.parameters()]]
    token = CancelToken()
    token.cancel()
    try:
        loop.train_step(
            net_g, net_d, optim_g, optim_d, scaler, random_batch(cfg), cfg, torch.device("cpu"), token
        )
    except loop.StepStopped:
        pass
    else:
        raise AssertionError("the step ran to its end after Stop")
    after = [*net_g.parameters(), *net_d.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
