"""Linear and mel spectrograms for training, as RVC's `train/mel_processing.py` computes them.

STFT with a Hann window, reflect padding of (n_fft - hop) / 2 on both sides and ``center=False``;
magnitude ``sqrt(re^2 + im^2 + 2e-7)``; librosa's Slaney mel filters; log with a 2e-6 floor.
Windows and filter banks are cached per (size, dtype, device).
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F


@functools.lru_cache(maxsize=16)
def _window(win_size: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    return torch.hann_window(win_size).to(dtype=dtype, device=device)


@functools.lru_cache(maxsize=16)
def _mel_basis(
    sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None, dtype: torch.dtype, device: str
) -> torch.Tensor:
    from librosa.filters import mel

    return torch.from_numpy(mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)).to(
        dtype=dtype, device=device
    )


def spectrogram(y: torch.Tensor, n_fft: int, hop_size: int, win_size: int) -> torch.Tensor:
    """(B, T) waveforms -> (B, n_fft // 2 + 1, frames) linear magnitudes."""
    pad = int((n_fft - hop_size) / 2)
    y = F.pad(y.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    spec = torch.stft(
        y,
        n_fft,
        hop_length=hop_size,
        win_length=win_size,
        window=_window(win_size, y.dtype, str(y.device)),
        center=False,
        normalized=False,
        onesided=True,
        return_complex=True,
    )
    return torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + 2e-7)


def spec_to_mel(
    spec: torch.Tensor, n_fft: int, n_mels: int, sr: int, fmin: float, fmax: float | None
) -> torch.Tensor:
    """Linear magnitudes -> log mel (B, n_mels, frames)."""
    basis = _mel_basis(sr, n_fft, n_mels, fmin, fmax, spec.dtype, str(spec.device))
    return torch.log(torch.clamp(torch.matmul(basis, spec), min=2e-6))


def mel_spectrogram(
    y: torch.Tensor,
    n_fft: int,
    n_mels: int,
    sr: int,
    hop_size: int,
    win_size: int,
    fmin: float,
    fmax: float | None,
) -> torch.Tensor:
    return spec_to_mel(spectrogram(y, n_fft, hop_size, win_size), n_fft, n_mels, sr, fmin, fmax)
