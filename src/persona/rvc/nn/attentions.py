"""The text encoder's transformer: relative-position multi-head self-attention (VITS).

Follows RVC's ``infer/module/attentions.py`` (``Encoder``, ``MultiHeadAttention`` with
``window_size=10`` shared relative embeddings, ``FFN`` with "same" padding and ReLU) and its
``LayerNorm`` (``gamma``/``beta`` over channels). Parameter names and order match RVC's.

Without autograd (conversion) the same attention is computed in blocks of query rows, and the
relative-position terms on their band only: RVC pads the 2*window+1 learned embeddings with
zeros to 2t-1 positions and multiplies the whole (t, 2t-1) matrices, where every entry off the
band is an exact zero. Each score still gets exactly one relative term added (zero off the band,
as in RVC) and each row the same softmax, so results agree with RVC's to float rounding, while
the working set drops from ~1.8 GB (a 41 s window: several (2, t, 2t-1) float tensors) to one
block of scores, and the relative terms cost O(t * window) instead of O(t^2).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class LayerNorm(nn.Module):
    """Layer norm over the channel axis of (b, c, t) tensors."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.channels = channels
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.layer_norm(x.transpose(1, -1), (self.channels,), self.gamma, self.beta, self.eps)
        return x.transpose(1, -1)


# Scores held at a time by the blocked inference attention (float32: 32 MB).
_BLOCK_ELEMENTS = 8 << 20


class MultiHeadAttention(nn.Module):
    """Self-attention with learned relative position keys/values (heads share them)."""

    def __init__(
        self, channels: int, out_channels: int, n_heads: int, p_dropout: float = 0.0, window_size: int = 10
    ) -> None:
        super().__init__()
        assert channels % n_heads == 0
        self.n_heads = n_heads
        self.k_channels = channels // n_heads
        self.window_size = window_size
        self.conv_q = nn.Conv1d(channels, channels, 1)
        self.conv_k = nn.Conv1d(channels, channels, 1)
        self.conv_v = nn.Conv1d(channels, channels, 1)
        self.conv_o = nn.Conv1d(channels, out_channels, 1)
        self.drop = nn.Dropout(p_dropout)
        std = self.k_channels**-0.5
        self.emb_rel_k = nn.Parameter(torch.randn(1, window_size * 2 + 1, self.k_channels) * std)
        self.emb_rel_v = nn.Parameter(torch.randn(1, window_size * 2 + 1, self.k_channels) * std)
        nn.init.xavier_uniform_(self.conv_q.weight)
        nn.init.xavier_uniform_(self.conv_k.weight)
        nn.init.xavier_uniform_(self.conv_v.weight)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        q, k, v = self.conv_q(x), self.conv_k(x), self.conv_v(x)
        attend = self._attend if torch.is_grad_enabled() else self._attend_blocked
        return self.conv_o(attend(q, k, v, attn_mask))

    def _attend_blocked(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None
    ) -> torch.Tensor:
        """``_attend`` without autograd: query blocks, relative terms on the band (see module doc)."""
        b, d, t = key.shape
        h, kc, w = self.n_heads, self.k_channels, self.window_size
        query = query.view(b, h, kc, t).transpose(2, 3) / math.sqrt(kc)
        key_t = key.view(b, h, kc, t)  # (b, h, kc, t): already the transposed keys
        value = value.view(b, h, kc, t).transpose(2, 3)
        emb_k, emb_v = self.emb_rel_k[0], self.emb_rel_v[0]  # (2w+1, kc), offset r at row r + w
        band_k = torch.matmul(query, emb_k.t())  # (b, h, t, 2w+1): q_i . e_k[j - i]
        out = torch.empty_like(query)
        block = max(64, _BLOCK_ELEMENTS // max(1, b * h * t))
        for i0 in range(0, t, block):
            i1 = min(i0 + block, t)
            scores = torch.matmul(query[:, :, i0:i1], key_t)  # (b, h, B, t)
            for r, a0, diag in _band(scores, i0, w):
                diag += band_k[:, :, i0 + a0 : i0 + a0 + diag.shape[-1], r + w]
            if mask is not None:
                scores.masked_fill_(mask[:, :, i0:i1] == 0, -1e4)
            p_attn = self.drop(F.softmax(scores, dim=-1))
            rows = torch.matmul(p_attn, value)
            band_p = p_attn.new_zeros(b, h, i1 - i0, 2 * w + 1)
            for r, a0, diag in _band(p_attn, i0, w):
                band_p[:, :, a0 : a0 + diag.shape[-1], r + w] = diag
            out[:, :, i0:i1] = rows + torch.matmul(band_p, emb_v)
        return out.transpose(2, 3).contiguous().view(b, d, t)

    def _attend(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None
    ) -> torch.Tensor:
        b, d, t = key.shape
        h, kc = self.n_heads, self.k_channels
        query = query.view(b, h, kc, t).transpose(2, 3)
        key = key.view(b, h, kc, t).transpose(2, 3)
        value = value.view(b, h, kc, t).transpose(2, 3)

        query = query / math.sqrt(kc)
        scores = torch.matmul(query, key.transpose(-2, -1))
        rel_k = self._relative_embeddings(self.emb_rel_k, t)
        rel_logits = torch.matmul(query, rel_k.unsqueeze(0).transpose(-2, -1))
        scores = scores + _relative_to_absolute(rel_logits)
        if mask is not None:
            scores = scores.masked_fill(mask == 0, -1e4)
        p_attn = self.drop(F.softmax(scores, dim=-1))
        out = torch.matmul(p_attn, value)
        rel_v = self._relative_embeddings(self.emb_rel_v, t)
        out = out + torch.matmul(_absolute_to_relative(p_attn), rel_v.unsqueeze(0))
        return out.transpose(2, 3).contiguous().view(b, d, t)

    def _relative_embeddings(self, emb: torch.Tensor, length: int) -> torch.Tensor:
        """The 2*length-1 relative positions around 0, zero beyond the learned window."""
        w = self.window_size
        pad = max(length - (w + 1), 0)
        start = max((w + 1) - length, 0)
        if pad > 0:
            emb = F.pad(emb, [0, 0, pad, pad, 0, 0])
        return emb[:, start : start + 2 * length - 1]


def _band(block: torch.Tensor, i0: int, w: int):
    """For a block of rows starting at query ``i0``: (offset r, first row a0, view of the entries
    (i, i + r)) for every relative offset r in [-w, w]."""
    for r in range(-w, w + 1):
        yield r, max(0, -(i0 + r)), block.diagonal(offset=i0 + r, dim1=-2, dim2=-1)


def _relative_to_absolute(x: torch.Tensor) -> torch.Tensor:
    """(b, h, l, 2l-1) relative logits -> (b, h, l, l) absolute, by the pad-and-reshape trick."""
    b, h, length, _ = x.shape
    x = F.pad(x, [0, 1, 0, 0, 0, 0, 0, 0])
    flat = F.pad(x.view(b, h, length * 2 * length), [0, length - 1, 0, 0, 0, 0])
    return flat.view(b, h, length + 1, 2 * length - 1)[:, :, :length, length - 1 :]


def _absolute_to_relative(x: torch.Tensor) -> torch.Tensor:
    """(b, h, l, l) attention weights -> (b, h, l, 2l-1) relative weights."""
    b, h, length, _ = x.shape
    x = F.pad(x, [0, length - 1, 0, 0, 0, 0, 0, 0])
    flat = F.pad(x.view(b, h, length * length + length * (length - 1)), [length, 0, 0, 0, 0, 0])
    return flat.view(b, h, length, 2 * length)[:, :, :, 1:]


class FFN(nn.Module):
    """Two 'same'-padded convolutions with ReLU, masked before each."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        filter_channels: int,
        kernel_size: int,
        p_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.conv_1 = nn.Conv1d(in_channels, filter_channels, kernel_size)
        self.conv_2 = nn.Conv1d(filter_channels, out_channels, kernel_size)
        self.drop = nn.Dropout(p_dropout)

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        if self.kernel_size == 1:
            return x
        return F.pad(x, [(self.kernel_size - 1) // 2, self.kernel_size // 2, 0, 0, 0, 0])

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv_1(self._pad(x * x_mask)))
        x = self.conv_2(self._pad(self.drop(x) * x_mask))
        return x * x_mask


class Encoder(nn.Module):
    """n_layers of (self-attention, add & norm, FFN, add & norm), masked."""

    def __init__(
        self,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int = 1,
        p_dropout: float = 0.0,
        window_size: int = 10,
    ) -> None:
        super().__init__()
        self.n_layers = int(n_layers)
        self.drop = nn.Dropout(p_dropout)
        self.attn_layers = nn.ModuleList()
        self.norm_layers_1 = nn.ModuleList()
        self.ffn_layers = nn.ModuleList()
        self.norm_layers_2 = nn.ModuleList()
        for _ in range(self.n_layers):
            self.attn_layers.append(
                MultiHeadAttention(hidden_channels, hidden_channels, n_heads, p_dropout, window_size)
            )
            self.norm_layers_1.append(LayerNorm(hidden_channels))
            self.ffn_layers.append(
                FFN(hidden_channels, hidden_channels, filter_channels, kernel_size, p_dropout)
            )
            self.norm_layers_2.append(LayerNorm(hidden_channels))

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
        attn_mask = x_mask.unsqueeze(2) * x_mask.unsqueeze(-1)
        x = x * x_mask
        for attn, norm1, ffn, norm2 in zip(
            self.attn_layers, self.norm_layers_1, self.ffn_layers, self.norm_layers_2, strict=True
        ):
            x = norm1(x + self.drop(attn(x, attn_mask)))
            x = norm2(x + self.drop(ffn(x, x_mask)))
        return x * x_mask
