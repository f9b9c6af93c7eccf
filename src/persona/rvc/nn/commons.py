"""Small tensor helpers shared by the synthesizer and the training loop.

Follows RVC's ``infer/module/commons.py`` (sequence masks, random segment slicing, padding
arithmetic). Differs in: every random draw can come from an explicit ``torch.Generator`` (or be
passed in), so tests can feed the reference implementation's noise; slices that would run past
the end of a short sequence are zero-padded instead of failing.
"""

from __future__ import annotations

import torch

LRELU_SLOPE = 0.1


def get_padding(kernel_size: int, dilation: int = 1) -> int:
    return int((kernel_size * dilation - dilation) / 2)


def sequence_mask(length: torch.Tensor, max_length: int | None = None) -> torch.Tensor:
    """Boolean mask (b, max_length): True where the position is inside the sequence."""
    if max_length is None:
        max_length = int(length.max())
    x = torch.arange(max_length, dtype=length.dtype, device=length.device)
    return x.unsqueeze(0) < length.unsqueeze(1)


def randn(
    shape: torch.Size | tuple[int, ...], like: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    """Standard normal noise shaped ``shape`` with ``like``'s dtype and device.

    Without a generator it draws from the global RNG exactly as ``torch.randn_like`` would (the
    same values for the same seed), so seeded runs match RVC's.
    """
    if generator is None:
        return torch.randn(shape, dtype=like.dtype, device=like.device)
    return torch.randn(shape, generator=generator, dtype=like.dtype, device=generator.device).to(like.device)


def rand(shape: tuple[int, ...], device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
    """Uniform [0, 1) float32 noise (RVC draws these in float32 whatever the model dtype)."""
    if generator is None:
        return torch.rand(shape, device=device)
    return torch.rand(shape, generator=generator, device=generator.device).to(device)


def slice_segments(x: torch.Tensor, starts: torch.Tensor, segment_size: int) -> torch.Tensor:
    """Cut ``x[i, ..., starts[i]:starts[i]+segment_size]`` along the last axis for each item.

    Works for (b, c, t) and (b, t) tensors (RVC's ``slice_segments`` / ``slice_segments2``).
    """
    out = x.new_zeros((*x.shape[:-1], segment_size))
    for i in range(x.size(0)):
        start = int(starts[i])
        piece = x[i, ..., start : start + segment_size]
        out[i, ..., : piece.shape[-1]] = piece
    return out


def rand_slice_segments(
    x: torch.Tensor,
    x_lengths: torch.Tensor | int | None,
    segment_size: int,
    generator: torch.Generator | None = None,
    starts: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A random window of ``segment_size`` frames per item, as RVC's ``rand_slice_segments``.

    RVC draws ``torch.rand([b])`` on the CPU generator; so do we unless ``generator`` (or
    explicit ``starts``) is given.
    """
    b = x.size(0)
    if starts is None:
        if x_lengths is None:
            x_lengths = x.size(-1)
        ids_max = x_lengths - segment_size + 1
        ids_max = ids_max.clamp_min(1) if isinstance(ids_max, torch.Tensor) else max(int(ids_max), 1)
        if generator is None:
            u = torch.rand([b]).to(device=x.device)
        else:
            u = torch.rand([b], generator=generator, device=generator.device).to(x.device)
        starts = (u * ids_max).to(dtype=torch.long)
    return slice_segments(x, starts, segment_size), starts


def fused_add_tanh_sigmoid_multiply(a: torch.Tensor, b: torch.Tensor, n_channels: int) -> torch.Tensor:
    in_act = a + b
    return torch.tanh(in_act[:, :n_channels, :]) * torch.sigmoid(in_act[:, n_channels:, :])
