"""GAN and VAE losses of RVC's `train/losses.py` (least-squares GAN, feature matching x2, KL).

Every term is computed in float32 even under fp16 autocast, as RVC does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def feature_loss(
    fmap_r: Sequence[Sequence[torch.Tensor]], fmap_g: Sequence[Sequence[torch.Tensor]]
) -> torch.Tensor:
    terms = [
        torch.mean(torch.abs(rl.float().detach() - gl.float()))
        for dr, dg in zip(fmap_r, fmap_g, strict=True)
        for rl, gl in zip(dr, dg, strict=True)
    ]
    return torch.stack(terms).sum() * 2


def discriminator_loss(
    real: Sequence[torch.Tensor], fake: Sequence[torch.Tensor]
) -> tuple[torch.Tensor, list[float], list[float]]:
    loss = torch.zeros((), device=real[0].device)
    r_losses, g_losses = [], []
    for dr, dg in zip(real, fake, strict=True):
        r = torch.mean((1 - dr.float()) ** 2)
        g = torch.mean(dg.float() ** 2)
        loss = loss + r + g
        r_losses.append(r.item())
        g_losses.append(g.item())
    return loss, r_losses, g_losses


def generator_loss(fake: Sequence[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
    loss = torch.zeros((), device=fake[0].device)
    parts = []
    for dg in fake:
        part = torch.mean((1 - dg.float()) ** 2)
        parts.append(part)
        loss = loss + part
    return loss, parts


def kl_loss(
    z_p: torch.Tensor, logs_q: torch.Tensor, m_p: torch.Tensor, logs_p: torch.Tensor, z_mask: torch.Tensor
) -> torch.Tensor:
    """KL(q || p) per masked frame; z_p, logs_q, m_p, logs_p: (B, H, T)."""
    z_p, logs_q, m_p, logs_p, z_mask = (t.float() for t in (z_p, logs_q, m_p, logs_p, z_mask))
    kl = logs_p - logs_q - 0.5 + 0.5 * ((z_p - m_p) ** 2) * torch.exp(-2.0 * logs_p)
    return torch.sum(kl * z_mask) / torch.sum(z_mask)
