"""HiFi-GAN decoders: plain (no-f0 models) and NSF (neural source-filter, f0 models).

Follows RVC's ``infer/module/models.py`` (``Generator``, ``GeneratorNSF``, ``SineGen``,
``SourceModuleHnNSF``): the sine excitation is built in float32 from frame-rate f0 (phase by
cumulative sum, wrap-around corrected at the upsampled rate), unvoiced frames get noise of
amplitude ``sine_amp / 3``, voiced ones ``noise_std``; the excitation is merged by a linear
layer + tanh in the model's dtype and injected after every upsampling stage through
``noise_convs``. Differs in: the excitation noise can be passed in (``source_noise``) or drawn
from a ``torch.Generator``; without either the global RNG is used exactly as RVC uses it.

Outside training a long latent is decoded in chunks of ``INFER_CHUNK_FRAMES`` frames, each with
``receptive_margin`` frames of context either side that are cut off again. The excitation is
still built once over the whole window (same random draws, same phase), and every output sample
sees all of its receptive field, so the result equals the whole decode up to float rounding
(~5e-7 on a full-size 40k decoder); the decoder's working set is bounded by the chunk instead of
growing with the window (a 41 s CPU window held ~2.3 GB of activations, a chunk ~0.2 GB).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from persona.rvc.nn import commons
from persona.rvc.nn.commons import LRELU_SLOPE
from persona.rvc.nn.modules import ResBlock1, ResBlock2
from persona.rvc.nn.weightnorm import WNConvTranspose1d


class SineGen(nn.Module):
    """Sine excitation (fundamental only in RVC) plus Gaussian noise, at the audio rate."""

    def __init__(
        self,
        samp_rate: int,
        harmonic_num: int = 0,
        sine_amp: float = 0.1,
        noise_std: float = 0.003,
        voiced_threshold: float = 0,
    ) -> None:
        super().__init__()
        self.sine_amp = sine_amp
        self.noise_std = noise_std
        self.harmonic_num = harmonic_num
        self.dim = harmonic_num + 1
        self.sampling_rate = samp_rate
        self.voiced_threshold = voiced_threshold

    @torch.no_grad()
    def forward(
        self,
        f0: torch.Tensor,
        upp: int,
        noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """f0 (b, t) in Hz -> (sine (b, t*upp, dim) float32, uv (b, t*upp, 1))."""
        f0 = f0[:, :, None].float()  # (b, t, 1)
        b, t, _ = f0.shape
        f0_buf = torch.zeros(b, t, self.dim, device=f0.device)
        f0_buf[:, :, 0] = f0[:, :, 0]
        for idx in range(self.harmonic_num):
            f0_buf[:, :, idx + 1] = f0_buf[:, :, 0] * (idx + 2)
        rad_values = (f0_buf / self.sampling_rate) % 1
        # Random initial phase for the overtones; the fundamental starts at 0. RVC draws it even
        # with no overtones, so we do too (keeps seeded runs aligned with RVC's RNG stream).
        rand_ini = commons.rand((b, self.dim), f0.device, generator)
        rand_ini[:, 0] = 0
        rad_values[:, 0, :] = rad_values[:, 0, :] + rand_ini
        # Phase at frame rate, interpolated to the audio rate; where it wraps, subtract a cycle.
        phase_frames = torch.cumsum(rad_values, 1) * upp
        phase_frames = F.interpolate(
            phase_frames.transpose(2, 1), scale_factor=float(upp), mode="linear", align_corners=True
        ).transpose(2, 1)
        rad_values = F.interpolate(
            rad_values.transpose(2, 1), scale_factor=float(upp), mode="nearest"
        ).transpose(2, 1)
        phase_frames %= 1
        wraps = (phase_frames[:, 1:, :] - phase_frames[:, :-1, :]) < 0
        cumsum_shift = torch.zeros_like(rad_values)
        cumsum_shift[:, 1:, :] = wraps * -1.0
        sine_waves = torch.sin(torch.cumsum(rad_values + cumsum_shift, dim=1) * 2 * torch.pi) * self.sine_amp
        uv = torch.ones_like(f0) * (f0 > self.voiced_threshold)
        uv = F.interpolate(uv.transpose(2, 1), scale_factor=float(upp), mode="nearest").transpose(2, 1)
        noise_amp = uv * self.noise_std + (1 - uv) * self.sine_amp / 3
        if noise is None:
            noise = commons.randn(sine_waves.shape, sine_waves, generator)
        else:
            noise = noise.to(device=sine_waves.device, dtype=sine_waves.dtype).reshape(sine_waves.shape)
        sine_waves = sine_waves * uv + noise_amp * noise
        return sine_waves, uv


class SourceModuleHnNSF(nn.Module):
    """Harmonic-plus-noise source: SineGen merged to one channel by ``l_linear`` + tanh."""

    def __init__(
        self,
        sampling_rate: int,
        harmonic_num: int = 0,
        sine_amp: float = 0.1,
        add_noise_std: float = 0.003,
        voiced_threshold: float = 0,
    ) -> None:
        super().__init__()
        self.l_sin_gen = SineGen(sampling_rate, harmonic_num, sine_amp, add_noise_std, voiced_threshold)
        self.l_linear = nn.Linear(harmonic_num + 1, 1)
        self.l_tanh = nn.Tanh()

    def forward(
        self,
        f0: torch.Tensor,
        upp: int = 1,
        noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        sine_waves, _ = self.l_sin_gen(f0, upp, noise=noise, generator=generator)
        sine_waves = sine_waves.to(dtype=self.l_linear.weight.dtype)
        return self.l_tanh(self.l_linear(sine_waves))


def _resblock_class(resblock: str) -> type[nn.Module]:
    return ResBlock1 if str(resblock) == "1" else ResBlock2


def _mrf(resblocks: nn.ModuleList, num_kernels: int, i: int, x: torch.Tensor) -> torch.Tensor:
    """Multi-receptive-field fusion: the mean of stage ``i``'s resblocks."""
    xs = resblocks[i * num_kernels](x)
    for j in range(1, num_kernels):
        xs = xs + resblocks[i * num_kernels + j](x)
    return xs / num_kernels


# Frames decoded at a time outside training (0: the whole window at once). 5 s at RVC's 100
# frames/s: each activation stays under ~32 MB (32 channels x 500 x 480 samples at 48k), the
# decoder's peak memory no longer grows with the window (41 s full-size 40k window: 2.3 GB of
# activations whole, ~0.2 GB in chunks) and costs the same CPU time (the margins add ~8 %
# of the frames, offset by fewer cache misses).
INFER_CHUNK_FRAMES = 500
_MARGIN_SAFETY = 8  # frames beyond the computed receptive field


def _conv_reach(conv: nn.Module) -> float:
    """Samples a conv output looks back or ahead (its half receptive field, dilation included)."""
    return conv.dilation[0] * (conv.kernel_size[0] - 1) / 2


def receptive_margin(gen: nn.Module) -> int:
    """Frames of latent context either side of a chunk that every output sample can depend on.

    Walks the decoder: conv_pre at the frame rate, then per stage the transposed conv (a full
    input span of ``ceil(k / stride)`` samples), the widest of the stage's parallel resblocks
    (its convs in series), the source's ``noise_convs`` (kernel span at the audio rate) and
    conv_post; each reach is divided by the stage's samples per frame.
    """
    frames = _conv_reach(gen.conv_pre)
    rate = 1
    upp = math.prod(int(up.stride[0]) for up in gen.ups)
    noise_convs = getattr(gen, "noise_convs", None)  # NSF decoders only
    for i, up in enumerate(gen.ups):
        frames += math.ceil(up.kernel_size[0] / up.stride[0]) / rate
        rate *= int(up.stride[0])
        if noise_convs is not None:
            frames += noise_convs[i].kernel_size[0] / upp
        blocks = gen.resblocks[i * gen.num_kernels : (i + 1) * gen.num_kernels]
        widest = max(sum(_conv_reach(m) for m in b.modules() if isinstance(m, nn.Conv1d)) for b in blocks)
        frames += widest / rate
    frames += _conv_reach(gen.conv_post) / rate
    return math.ceil(frames) + _MARGIN_SAFETY


def _in_chunks(body, x: torch.Tensor, source: torch.Tensor | None, upp: int, chunk: int, margin: int):
    """``body(x, source)`` over chunks of ``chunk`` frames with ``margin`` frames of context."""
    t = x.shape[-1]
    outs = []
    for a in range(0, t, chunk):
        b = min(a + chunk, t)
        lo, hi = max(a - margin, 0), min(b + margin, t)
        src = None if source is None else source[..., lo * upp : hi * upp]
        y = body(x[..., lo:hi], src)
        outs.append(y[..., (a - lo) * upp : (b - lo) * upp])
    return torch.cat(outs, -1)


def _chunked(gen: nn.Module, t: int) -> int:
    """The chunk size to decode ``t`` frames with, or 0 for one pass (training, short input)."""
    chunk = int(getattr(gen, "infer_chunk_frames", INFER_CHUNK_FRAMES))
    if gen.training or chunk <= 0 or t <= chunk + 2 * gen.margin:
        return 0
    return chunk


def _resample(x: torch.Tensor, n: int) -> torch.Tensor:
    return x if x.shape[-1] == n else F.interpolate(x, size=n, mode="linear")


class Generator(nn.Module):
    """HiFi-GAN without a source signal (RVC's no-f0 models)."""

    def __init__(
        self,
        initial_channel: int,
        resblock: str,
        resblock_kernel_sizes: Sequence[int],
        resblock_dilation_sizes: Sequence[Sequence[int]],
        upsample_rates: Sequence[int],
        upsample_initial_channel: int,
        upsample_kernel_sizes: Sequence[int],
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        self.num_kernels = len(resblock_kernel_sizes)
        self.num_upsamples = len(upsample_rates)
        self.conv_pre = nn.Conv1d(initial_channel, upsample_initial_channel, 7, 1, padding=3)
        block = _resblock_class(resblock)
        self.ups = nn.ModuleList(
            WNConvTranspose1d(
                upsample_initial_channel // (2**i),
                upsample_initial_channel // (2 ** (i + 1)),
                k,
                u,
                padding=(k - u) // 2,
            )
            for i, (u, k) in enumerate(zip(upsample_rates, upsample_kernel_sizes, strict=True))
        )
        self.resblocks = nn.ModuleList()
        ch = upsample_initial_channel
        for i in range(self.num_upsamples):
            ch = upsample_initial_channel // (2 ** (i + 1))
            for k, d in zip(resblock_kernel_sizes, resblock_dilation_sizes, strict=True):
                self.resblocks.append(block(ch, k, tuple(d)))
        self.conv_post = nn.Conv1d(ch, 1, 7, 1, padding=3, bias=False)
        if gin_channels != 0:
            self.cond = nn.Conv1d(gin_channels, upsample_initial_channel, 1)
        self.upp = math.prod(upsample_rates)
        self.margin = receptive_margin(self)

    def forward(
        self, x: torch.Tensor, g: torch.Tensor | None = None, n_res: int | torch.Tensor | None = None
    ) -> torch.Tensor:
        if n_res is not None:
            x = _resample(x, int(n_res))
        chunk = _chunked(self, x.shape[-1])
        if chunk:
            return _in_chunks(lambda xs, _: self._body(xs, g), x, None, self.upp, chunk, self.margin)
        return self._body(x, g)

    def _body(self, x: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
        x = self.conv_pre(x)
        if g is not None:
            x = x + self.cond(g)
        for i in range(self.num_upsamples):
            x = self.ups[i](F.leaky_relu(x, LRELU_SLOPE))
            x = _mrf(self.resblocks, self.num_kernels, i, x)
        # RVC's final activation uses leaky_relu's default slope (0.01), not LRELU_SLOPE.
        x = self.conv_post(F.leaky_relu(x))
        return torch.tanh(x)


class GeneratorNSF(nn.Module):
    """HiFi-GAN driven by an f0 sine source injected after each upsampling stage."""

    def __init__(
        self,
        initial_channel: int,
        resblock: str,
        resblock_kernel_sizes: Sequence[int],
        resblock_dilation_sizes: Sequence[Sequence[int]],
        upsample_rates: Sequence[int],
        upsample_initial_channel: int,
        upsample_kernel_sizes: Sequence[int],
        gin_channels: int,
        sr: int,
    ) -> None:
        super().__init__()
        self.num_kernels = len(resblock_kernel_sizes)
        self.num_upsamples = len(upsample_rates)
        self.upp = math.prod(upsample_rates)
        # Registration order follows RVC (m_source, noise_convs before conv_pre), which fixes
        # the parameter order an optimizer state refers to.
        self.m_source = SourceModuleHnNSF(sampling_rate=sr, harmonic_num=0)
        self.noise_convs = nn.ModuleList()
        self.conv_pre = nn.Conv1d(initial_channel, upsample_initial_channel, 7, 1, padding=3)
        block = _resblock_class(resblock)
        self.ups = nn.ModuleList()
        for i, (u, k) in enumerate(zip(upsample_rates, upsample_kernel_sizes, strict=True)):
            c_cur = upsample_initial_channel // (2 ** (i + 1))
            self.ups.append(
                WNConvTranspose1d(upsample_initial_channel // (2**i), c_cur, k, u, padding=(k - u) // 2)
            )
            if i + 1 < len(upsample_rates):
                stride_f0 = math.prod(upsample_rates[i + 1 :])
                self.noise_convs.append(
                    nn.Conv1d(1, c_cur, kernel_size=stride_f0 * 2, stride=stride_f0, padding=stride_f0 // 2)
                )
            else:
                self.noise_convs.append(nn.Conv1d(1, c_cur, kernel_size=1))
        self.resblocks = nn.ModuleList()
        ch = upsample_initial_channel
        for i in range(self.num_upsamples):
            ch = upsample_initial_channel // (2 ** (i + 1))
            for k, d in zip(resblock_kernel_sizes, resblock_dilation_sizes, strict=True):
                self.resblocks.append(block(ch, k, tuple(d)))
        self.conv_post = nn.Conv1d(ch, 1, 7, 1, padding=3, bias=False)
        if gin_channels != 0:
            self.cond = nn.Conv1d(gin_channels, upsample_initial_channel, 1)
        self.margin = receptive_margin(self)

    def forward(
        self,
        x: torch.Tensor,
        f0: torch.Tensor,
        g: torch.Tensor | None = None,
        n_res: int | torch.Tensor | None = None,
        *,
        source_noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """x (b, c, t) latent, f0 (b, t) Hz -> waveform (b, 1, t * upp) in [-1, 1]."""
        har_source = self.m_source(f0, self.upp, noise=source_noise, generator=generator).transpose(1, 2)
        if n_res is not None:
            n = int(n_res)
            har_source = _resample(har_source, n * self.upp)
            x = _resample(x, n)
        chunk = _chunked(self, x.shape[-1])
        if chunk:
            return _in_chunks(
                lambda xs, hs: self._body(xs, hs, g), x, har_source, self.upp, chunk, self.margin
            )
        return self._body(x, har_source, g)

    def _body(self, x: torch.Tensor, har_source: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
        x = self.conv_pre(x)
        if g is not None:
            x = x + self.cond(g)
        for i in range(self.num_upsamples):
            x = self.ups[i](F.leaky_relu(x, LRELU_SLOPE))
            x = x + self.noise_convs[i](har_source)
            x = _mrf(self.resblocks, self.num_kernels, i, x)
        x = self.conv_post(F.leaky_relu(x))
        return torch.tanh(x)
