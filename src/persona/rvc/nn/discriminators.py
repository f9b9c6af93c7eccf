"""RVC's GAN discriminators: one scale discriminator plus period discriminators.

Follows RVC's ``infer/module/models.py``: ``MultiPeriodDiscriminator`` (v1: periods
2, 3, 5, 7, 11, 17) and ``MultiPeriodDiscriminatorV2`` (v2: adds 23, 37), each holding
``DiscriminatorS`` first, with weight-normalised convolutions named as RVC names them, so
pretrained ``f0D40k.pth``-style files load strictly. ``forward(y, y_hat)`` returns
``(y_d_rs, y_d_gs, fmap_rs, fmap_gs)`` as RVC's training loop expects.

Differs in: ``channel_divisor`` (default 1 = RVC's sizes) shrinks every width for fast tests.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from persona.rvc.nn.commons import LRELU_SLOPE, get_padding
from persona.rvc.nn.weightnorm import WNConv1d, WNConv2d

PERIODS_V1 = (2, 3, 5, 7, 11, 17)
PERIODS_V2 = (2, 3, 5, 7, 11, 17, 23, 37)

DiscriminatorOutput = tuple[
    list[torch.Tensor], list[torch.Tensor], list[list[torch.Tensor]], list[list[torch.Tensor]]
]


def _conv1d(spectral: bool, *args, **kwargs) -> nn.Module:  # noqa: ANN002, ANN003
    return nn.utils.spectral_norm(nn.Conv1d(*args, **kwargs)) if spectral else WNConv1d(*args, **kwargs)


def _conv2d(spectral: bool, *args, **kwargs) -> nn.Module:  # noqa: ANN002, ANN003
    return nn.utils.spectral_norm(nn.Conv2d(*args, **kwargs)) if spectral else WNConv2d(*args, **kwargs)


class DiscriminatorS(nn.Module):
    """Strided grouped 1-D convolutions over the raw waveform."""

    def __init__(self, use_spectral_norm: bool = False, channel_divisor: int = 1) -> None:
        super().__init__()
        d = channel_divisor
        c = [max(n // d, 1) for n in (16, 64, 256, 1024)]
        groups = [max(n // d, 1) for n in (4, 16, 64, 256)]
        sn = use_spectral_norm
        self.convs = nn.ModuleList(
            [
                _conv1d(sn, 1, c[0], 15, 1, padding=7),
                _conv1d(sn, c[0], c[1], 41, 4, groups=groups[0], padding=20),
                _conv1d(sn, c[1], c[2], 41, 4, groups=groups[1], padding=20),
                _conv1d(sn, c[2], c[3], 41, 4, groups=groups[2], padding=20),
                _conv1d(sn, c[3], c[3], 41, 4, groups=groups[3], padding=20),
                _conv1d(sn, c[3], c[3], 5, 1, padding=2),
            ]
        )
        self.conv_post = _conv1d(sn, c[3], 1, 3, 1, padding=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        fmap = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU_SLOPE)
            fmap.append(x)
        x = self.conv_post(x)
        fmap.append(x)
        return torch.flatten(x, 1, -1), fmap


class DiscriminatorP(nn.Module):
    """2-D convolutions over the waveform folded by ``period``."""

    def __init__(
        self,
        period: int,
        kernel_size: int = 5,
        stride: int = 3,
        use_spectral_norm: bool = False,
        channel_divisor: int = 1,
    ) -> None:
        super().__init__()
        self.period = period
        d = channel_divisor
        ch = [1] + [max(n // d, 1) for n in (32, 128, 512, 1024, 1024)]
        pad = (get_padding(kernel_size, 1), 0)
        sn = use_spectral_norm
        self.convs = nn.ModuleList(
            _conv2d(sn, ch[i], ch[i + 1], (kernel_size, 1), (stride if i < 4 else 1, 1), padding=pad)
            for i in range(5)
        )
        self.conv_post = _conv2d(sn, ch[5], 1, (3, 1), 1, padding=(1, 0))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        fmap = []
        b, c, t = x.shape
        if t % self.period != 0:
            n_pad = self.period - (t % self.period)
            x = F.pad(x, (0, n_pad), "reflect")
            t = t + n_pad
        x = x.view(b, c, t // self.period, self.period)
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU_SLOPE)
            fmap.append(x)
        x = self.conv_post(x)
        fmap.append(x)
        return torch.flatten(x, 1, -1), fmap


class _MultiDiscriminator(nn.Module):
    def __init__(self, periods: Sequence[int], use_spectral_norm: bool, channel_divisor: int) -> None:
        super().__init__()
        discs: list[nn.Module] = [DiscriminatorS(use_spectral_norm, channel_divisor)]
        discs += [
            DiscriminatorP(p, use_spectral_norm=use_spectral_norm, channel_divisor=channel_divisor)
            for p in periods
        ]
        self.discriminators = nn.ModuleList(discs)

    def forward(self, y: torch.Tensor, y_hat: torch.Tensor) -> DiscriminatorOutput:
        """Real ``y`` and generated ``y_hat`` (b, 1, samples) -> scores and feature maps of each."""
        y_d_rs, y_d_gs, fmap_rs, fmap_gs = [], [], [], []
        for d in self.discriminators:
            y_d_r, fmap_r = d(y)
            y_d_g, fmap_g = d(y_hat)
            y_d_rs.append(y_d_r)
            y_d_gs.append(y_d_g)
            fmap_rs.append(fmap_r)
            fmap_gs.append(fmap_g)
        return y_d_rs, y_d_gs, fmap_rs, fmap_gs


class MultiPeriodDiscriminator(_MultiDiscriminator):
    """v1 discriminator (periods 2..17)."""

    def __init__(self, use_spectral_norm: bool = False, *, channel_divisor: int = 1) -> None:
        super().__init__(PERIODS_V1, use_spectral_norm, channel_divisor)


class MultiPeriodDiscriminatorV2(_MultiDiscriminator):
    """v2 discriminator (periods 2..37)."""

    def __init__(self, use_spectral_norm: bool = False, *, channel_divisor: int = 1) -> None:
        super().__init__(PERIODS_V2, use_spectral_norm, channel_divisor)


def discriminator_for(
    version: str, use_spectral_norm: bool = False, *, channel_divisor: int = 1
) -> nn.Module:
    """The discriminator RVC trains with for ``version`` ("v1" or "v2")."""
    cls = MultiPeriodDiscriminatorV2 if version == "v2" else MultiPeriodDiscriminator
    return cls(use_spectral_norm, channel_divisor=channel_divisor)
