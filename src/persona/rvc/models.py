"""RVC's synthesizers (VITS with an NSF-HiFiGAN decoder), v1 (256-d) and v2 (768-d) features.

Follows RVC's ``infer/module/models.py``: ``SynthesizerTrnMs256NSFsid`` (v1, f0),
``SynthesizerTrnMs256NSFsid_nono`` (v1, no f0), ``SynthesizerTrnMs768NSFsid`` (v2, f0),
``SynthesizerTrnMs768NSFsid_nono`` (v2, no f0), built from RVC's 18-entry ``config`` list, with
RVC's parameter names and registration order (``enc_p``, ``dec`` (incl. ``m_source``), ``enc_q``,
``flow``, ``emb_g``; the v2 classes register ``enc_p`` last, as RVC's ``del``/re-assign does), so
RVC checkpoints load with strict key checks and RVC optimizer states line up.

``infer`` samples the prior with noise scale 0.66666 and decodes; ``forward`` is the training
pass (posterior encoder, flow, random segment, decoder). Differs in: every random draw can be
passed in explicitly or taken from a ``torch.Generator``; with neither, the global RNG is used in
RVC's order (same seed, same output). Everything is dtype-agnostic (``model.half()`` works on
CUDA); the NSF sine source is always computed in float32, as RVC does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from persona.rvc.formats import SR2SR
from persona.rvc.nn import commons
from persona.rvc.nn.discriminators import (
    MultiPeriodDiscriminator,
    MultiPeriodDiscriminatorV2,
    discriminator_for,
)
from persona.rvc.nn.encoders import PosteriorEncoder, ResidualCouplingBlock, TextEncoder
from persona.rvc.nn.generators import Generator, GeneratorNSF

__all__ = [
    "INFER_NOISE_SCALE",
    "SR2SR",
    "UPSAMPLE_CONFIGS",
    "MultiPeriodDiscriminator",
    "MultiPeriodDiscriminatorV2",
    "PosteriorEncoder",
    "ResidualCouplingBlock",
    "SynthesizerTrnMs256NSFsid",
    "SynthesizerTrnMs256NSFsid_nono",
    "SynthesizerTrnMs768NSFsid",
    "SynthesizerTrnMs768NSFsid_nono",
    "TextEncoder",
    "build_synthesizer",
    "discriminator_for",
    "standard_config",
    "synthesizer_class",
]


# RVC's generator configurations (configs/v1/*.json, configs/v2/*.json; v2 40k uses v1's):
# (version, sr) -> (upsample_rates, upsample_kernel_sizes). The hop is their product (sr / 100).
UPSAMPLE_CONFIGS: dict[tuple[str, str], tuple[list[int], list[int]]] = {
    ("v1", "32k"): ([10, 4, 2, 2, 2], [16, 16, 4, 4, 4]),
    ("v1", "40k"): ([10, 10, 2, 2], [16, 16, 4, 4]),
    ("v1", "48k"): ([10, 6, 2, 2, 2], [16, 16, 4, 4, 4]),
    ("v2", "32k"): ([10, 8, 2, 2], [20, 16, 4, 4]),
    ("v2", "40k"): ([10, 10, 2, 2], [16, 16, 4, 4]),
    ("v2", "48k"): ([12, 10, 2, 2], [24, 20, 4, 4]),
}
FILTER_LENGTHS = {"32k": 1024, "40k": 2048, "48k": 2048}


def standard_config(sr: str = "40k", version: str = "v2") -> list[Any]:
    """RVC's 18-entry config list for a rate and version, as its exported models carry it:
    [spec_channels, segment_size, inter_channels, hidden_channels, filter_channels, n_heads,
    n_layers, kernel_size, p_dropout, resblock, resblock_kernel_sizes, resblock_dilation_sizes,
    upsample_rates, upsample_initial_channel, upsample_kernel_sizes, spk_embed_dim,
    gin_channels, sampling_rate]."""
    if (version, sr) not in UPSAMPLE_CONFIGS:
        raise ValueError(f"no RVC configuration for version {version!r} at {sr!r}")
    rates, kernels = UPSAMPLE_CONFIGS[(version, sr)]
    return [
        FILTER_LENGTHS[sr] // 2 + 1, 32, 192, 192, 768, 2, 6, 3, 0, "1", [3, 7, 11],
        [[1, 3, 5], [1, 3, 5], [1, 3, 5]], list(rates), 512, list(kernels), 109, 256, SR2SR[sr],
    ]  # fmt: skip


# RVC scales the prior's noise by this at inference.
INFER_NOISE_SCALE = 0.66666


def _as_int_sr(sr: int | str | None) -> int | None:
    if isinstance(sr, str):
        return SR2SR[sr]
    return None if sr is None else int(sr)


class _Synthesizer(nn.Module):
    """Shared body of the four RVC synthesizers; subclasses fix feature size and f0."""

    phone_dim = 256
    use_f0 = True

    def __init__(
        self,
        spec_channels: int,
        segment_size: int,
        inter_channels: int,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        p_dropout: float,
        resblock: str,
        resblock_kernel_sizes: Sequence[int],
        resblock_dilation_sizes: Sequence[Sequence[int]],
        upsample_rates: Sequence[int],
        upsample_initial_channel: int,
        upsample_kernel_sizes: Sequence[int],
        spk_embed_dim: int,
        gin_channels: int,
        sr: int | str | None = None,
        **kwargs: Any,  # RVC passes is_half, use_spectral_norm...: not needed here
    ) -> None:
        super().__init__()
        self.sampling_rate = _as_int_sr(sr)
        if self.use_f0 and self.sampling_rate is None:
            raise ValueError("an f0 synthesizer needs its sampling rate (sr)")
        self.spec_channels = spec_channels
        self.segment_size = segment_size
        self.inter_channels = inter_channels
        self.hidden_channels = hidden_channels
        self.gin_channels = gin_channels
        self.spk_embed_dim = spk_embed_dim
        self.upsample_rates = list(upsample_rates)
        self.hop_length = math.prod(upsample_rates)
        enc_p_args = (
            self.phone_dim,
            inter_channels,
            hidden_channels,
            filter_channels,
            n_heads,
            n_layers,
            kernel_size,
            float(p_dropout),
        )
        # RVC's v2 classes delete and re-create enc_p after the rest, which moves it last.
        if self.phone_dim == 256:
            self.enc_p = TextEncoder(*enc_p_args, f0=self.use_f0)
        dec_args = (
            inter_channels,
            resblock,
            resblock_kernel_sizes,
            resblock_dilation_sizes,
            upsample_rates,
            upsample_initial_channel,
            upsample_kernel_sizes,
        )
        if self.use_f0:
            self.dec: nn.Module = GeneratorNSF(*dec_args, gin_channels=gin_channels, sr=self.sampling_rate)
        else:
            self.dec = Generator(*dec_args, gin_channels=gin_channels)
        self.enc_q = PosteriorEncoder(spec_channels, inter_channels, hidden_channels, 5, 1, 16, gin_channels)
        self.flow = ResidualCouplingBlock(inter_channels, hidden_channels, 5, 1, 3, gin_channels=gin_channels)
        self.emb_g = nn.Embedding(spk_embed_dim, gin_channels)
        if self.phone_dim != 256:
            self.enc_p = TextEncoder(*enc_p_args, f0=self.use_f0)

    # -- shared pieces -------------------------------------------------------------------------

    def _decode(
        self,
        z: torch.Tensor,
        f0: torch.Tensor | None,
        g: torch.Tensor,
        n_res: int | torch.Tensor | None,
        source_noise: torch.Tensor | None,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        if self.use_f0:
            return self.dec(z, f0, g=g, n_res=n_res, source_noise=source_noise, generator=generator)
        return self.dec(z, g=g, n_res=n_res)

    def _infer(
        self,
        phone: torch.Tensor,
        phone_lengths: torch.Tensor,
        pitch: torch.Tensor | None,
        nsff0: torch.Tensor | None,
        sid: torch.Tensor,
        skip_head: int | torch.Tensor | None,
        return_length: int | torch.Tensor | None,
        return_length2: int | torch.Tensor | None,
        z_noise: torch.Tensor | None,
        source_noise: torch.Tensor | None,
        generator: torch.Generator | None,
        noise_scale: float,
    ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...]]:
        g = self.emb_g(sid).unsqueeze(-1)
        sliced = skip_head is not None and return_length is not None
        if sliced:
            head, length = int(skip_head), int(return_length)  # type: ignore[arg-type]
            # The flow sees 24 frames of left context before the part that is decoded.
            flow_head = max(head - 24, 0)
            dec_head = head - flow_head
            m_p, logs_p, x_mask = self.enc_p(phone, pitch, phone_lengths, flow_head)
        else:
            m_p, logs_p, x_mask = self.enc_p(phone, pitch, phone_lengths)
        eps = commons.randn(m_p.shape, m_p, generator) if z_noise is None else z_noise.to(m_p)
        z_p = (m_p + torch.exp(logs_p) * eps * noise_scale) * x_mask
        z = self.flow(z_p, x_mask, g=g, reverse=True)
        if sliced:
            z = z[:, :, dec_head : dec_head + length]
            x_mask = x_mask[:, :, dec_head : dec_head + length]
            if nsff0 is not None:
                nsff0 = nsff0[:, head : head + length]
        o = self._decode(z * x_mask, nsff0, g, return_length2, source_noise, generator)
        return o, x_mask, (z, z_p, m_p, logs_p)

    def _train_forward(
        self,
        phone: torch.Tensor,
        phone_lengths: torch.Tensor,
        pitch: torch.Tensor | None,
        pitchf: torch.Tensor | None,
        y: torch.Tensor,
        y_lengths: torch.Tensor,
        ds: torch.Tensor,
        generator: torch.Generator | None,
        posterior_noise: torch.Tensor | None,
        slice_starts: torch.Tensor | None,
        source_noise: torch.Tensor | None,
    ) -> tuple[Any, ...]:
        g = self.emb_g(ds).unsqueeze(-1)  # (b, gin, 1), broadcast over time
        m_p, logs_p, x_mask = self.enc_p(phone, pitch, phone_lengths)
        z, m_q, logs_q, y_mask = self.enc_q(y, y_lengths, g=g, noise=posterior_noise, generator=generator)
        z_p = self.flow(z, y_mask, g=g)
        z_slice, ids_slice = commons.rand_slice_segments(
            z, y_lengths, self.segment_size, generator=generator, starts=slice_starts
        )
        if pitchf is not None:
            pitchf = commons.slice_segments(pitchf, ids_slice, self.segment_size)
        o = self._decode(z_slice, pitchf, g, None, source_noise, generator)
        return o, ids_slice, x_mask, y_mask, (z, z_p, m_p, logs_p, m_q, logs_q)


class SynthesizerTrnMs256NSFsid(_Synthesizer):
    """v1 (256-d features) with f0 (NSF decoder)."""

    phone_dim = 256
    use_f0 = True

    def forward(
        self,
        phone: torch.Tensor,
        phone_lengths: torch.Tensor,
        pitch: torch.Tensor,
        pitchf: torch.Tensor,
        y: torch.Tensor,
        y_lengths: torch.Tensor,
        ds: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
        posterior_noise: torch.Tensor | None = None,
        slice_starts: torch.Tensor | None = None,
        source_noise: torch.Tensor | None = None,
    ) -> tuple[Any, ...]:
        """Training pass. phone (b, t, d) float, pitch (b, t) long 1..255, pitchf (b, t) Hz,
        y (b, spec_channels, t) linear spectrogram, ds (b,) speaker ids.

        Returns ``o (b, 1, segment_size*hop), ids_slice, x_mask, y_mask,
        (z, z_p, m_p, logs_p, m_q, logs_q)`` as RVC's.
        """
        return self._train_forward(
            phone, phone_lengths, pitch, pitchf, y, y_lengths, ds,
            generator, posterior_noise, slice_starts, source_noise,
        )  # fmt: skip

    def infer(
        self,
        phone: torch.Tensor,
        phone_lengths: torch.Tensor,
        pitch: torch.Tensor,
        nsff0: torch.Tensor,
        sid: torch.Tensor,
        skip_head: int | torch.Tensor | None = None,
        return_length: int | torch.Tensor | None = None,
        return_length2: int | torch.Tensor | None = None,
        *,
        z_noise: torch.Tensor | None = None,
        source_noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        noise_scale: float = INFER_NOISE_SCALE,
    ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...]]:
        """Conversion. Returns ``(audio (b, 1, t*hop), x_mask, (z, z_p, m_p, logs_p))``.

        ``z_noise`` (shaped like m_p) and ``source_noise`` (b, t*hop, 1) replace the random
        draws; ``generator`` is used for whatever is not given.
        """
        return self._infer(
            phone, phone_lengths, pitch, nsff0, sid, skip_head, return_length, return_length2,
            z_noise, source_noise, generator, noise_scale,
        )  # fmt: skip


class SynthesizerTrnMs768NSFsid(SynthesizerTrnMs256NSFsid):
    """v2 (768-d features) with f0 (NSF decoder)."""

    phone_dim = 768


class SynthesizerTrnMs256NSFsid_nono(_Synthesizer):  # noqa: N801 (RVC's name)
    """v1 (256-d features) without f0 (plain HiFi-GAN decoder)."""

    phone_dim = 256
    use_f0 = False

    def forward(
        self,
        phone: torch.Tensor,
        phone_lengths: torch.Tensor,
        y: torch.Tensor,
        y_lengths: torch.Tensor,
        ds: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
        posterior_noise: torch.Tensor | None = None,
        slice_starts: torch.Tensor | None = None,
    ) -> tuple[Any, ...]:
        """Training pass (see the f0 variant) without pitch inputs."""
        return self._train_forward(
            phone, phone_lengths, None, None, y, y_lengths, ds, generator, posterior_noise, slice_starts, None
        )

    def infer(
        self,
        phone: torch.Tensor,
        phone_lengths: torch.Tensor,
        sid: torch.Tensor,
        skip_head: int | torch.Tensor | None = None,
        return_length: int | torch.Tensor | None = None,
        return_length2: int | torch.Tensor | None = None,
        *,
        z_noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        noise_scale: float = INFER_NOISE_SCALE,
    ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...]]:
        """Conversion without pitch; see the f0 variant."""
        return self._infer(
            phone, phone_lengths, None, None, sid, skip_head, return_length, return_length2,
            z_noise, None, generator, noise_scale,
        )  # fmt: skip


class SynthesizerTrnMs768NSFsid_nono(SynthesizerTrnMs256NSFsid_nono):  # noqa: N801 (RVC's name)
    """v2 (768-d features) without f0 (plain HiFi-GAN decoder)."""

    phone_dim = 768


_CLASSES: dict[tuple[str, bool], type[_Synthesizer]] = {
    ("v1", True): SynthesizerTrnMs256NSFsid,
    ("v1", False): SynthesizerTrnMs256NSFsid_nono,
    ("v2", True): SynthesizerTrnMs768NSFsid,
    ("v2", False): SynthesizerTrnMs768NSFsid_nono,
}


def synthesizer_class(version: str, f0: bool) -> type[_Synthesizer]:
    """RVC's class for a model version ("v1"/"v2") and f0 flag."""
    try:
        return _CLASSES[(version, bool(f0))]
    except KeyError:
        raise ValueError(f"unknown model version {version!r} (expected 'v1' or 'v2')") from None


def build_synthesizer(
    config: Sequence[Any], version: str, f0: bool, *, with_posterior: bool = True
) -> nn.Module:
    """Build from RVC's 18-entry config list; ``with_posterior=False`` drops ``enc_q``
    (exported models do not carry it and inference does not need it)."""
    net_g = synthesizer_class(version, f0)(*config)
    if not with_posterior:
        del net_g.enc_q
    return net_g
