"""PerthNet (resemble-perth 1.0.1, MIT) run with our own STFT front end.

resemble-perth ships a trained watermark network (encoder + multi-scale decoder on the 0-2 kHz
log-magnitude STFT at 32 kHz) but its front end imports torchaudio, which cannot load beside our
torch, and its package import then hands back ``None`` silently. Here the same network is rebuilt
layer for layer from ``perth_net/perth_net_implicit/model/*.py`` and fed by ``torch.stft`` /
``torch.istft`` with the settings of its ``audio_processor.py`` (torchaudio's ``Spectrogram`` /
``InverseSpectrogram``: n_fft 2048, hop 320, Hann 2048, centred, reflect padding, unnormalised)
and the dB normalisation of its ``utils.py``. The weights are read from the installed wheel's
``pretrained/implicit/perth_net_250000.pth.tar`` with ``torch.load(weights_only=True)``: no pickled
code runs; the package itself is never imported.

Differs from ``PerthImplicitWatermarker``: the mark is computed as a residual (watermarked minus
original spectrum, inverse-transformed at 32 kHz) and added to the untouched signal, so nothing
above 16 kHz is lost and no full-song resample round trip happens.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from persona.errors import PersonaError

SR = 32000
N_FFT = 2048
HOP = 320
SUBBAND = 128  # round(1025 * 2000 / 16000): bins up to max_wmark_freq 2 kHz
HIDDEN = 256
_MAG_MIN_DB = -180.0  # 20 * log10(stft_magnitude_min 1e-9)
_HEADROOM_DB = 15.0
WEIGHTS = "perth_net/pretrained/implicit/perth_net_250000.pth.tar"


class _Conv(nn.Module):
    def __init__(self, i: int, o: int, k: int, act: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv1d(i, o, k, padding=(k - 1) // 2)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return F.leaky_relu(x) if self.act else x


def _layers(i: int, o: int) -> nn.Sequential:
    return nn.Sequential(
        _Conv(i, HIDDEN, 1), *[_Conv(HIDDEN, HIDDEN, 7) for _ in range(5)], _Conv(HIDDEN, o, 1, act=False)
    )


def _mask(mag: torch.Tensor) -> torch.Tensor:
    """Frames whose summed (normalised) magnitude passes 5 % of the loudest: (B, 1, T)."""
    s = mag.sum(dim=1)
    return (s > s.max(dim=1).values[:, None] * 0.05).float()[:, None]


class _Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = _layers(SUBBAND, SUBBAND)

    def forward(self, mag: torch.Tensor) -> torch.Tensor:
        """The residual to add to the normalised magnitude's lowest ``SUBBAND`` bins."""
        return self.layers(mag[:, :SUBBAND]) * _mask(mag)


def _masked_mean(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    return (x * m).sum(dim=2) / m.sum(dim=2).clamp(min=1.0)


class _Decoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.slow_layers = _layers(SUBBAND, 2)
        self.normal_layers = _layers(SUBBAND, 2)
        self.fast_layers = _layers(SUBBAND, 2)

    def forward(self, mag: torch.Tensor) -> torch.Tensor:
        mask = _mask(mag)
        sub = mag[:, :SUBBAND]
        t = sub.shape[2]
        marks, attns = [], []
        for layers, scale in ((self.slow_layers, 1.25), (self.normal_layers, 1.0), (self.fast_layers, 0.75)):
            x = (
                sub
                if scale == 1.0
                else F.interpolate(sub, size=int(t * scale), mode="linear", align_corners=True)
            )
            out = layers(x)
            m = F.interpolate(mask, size=out.shape[2], mode="nearest")
            attns.append(_masked_mean(out[:, :1], m))
            marks.append(_masked_mean(out[:, 1:], m))
        attn = torch.softmax(torch.cat(attns, dim=1), dim=1)
        return (torch.cat(marks, dim=1) * attn).sum(dim=1)


class PerthNet(nn.Module):
    """The watermark network: ``embed`` (residual waveform at 32 kHz) and ``score`` (0..1)."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = _Encoder()
        self.decoder = _Decoder()
        self.register_buffer("window", torch.hann_window(N_FFT), persistent=False)

    def _stft(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stft(
            x,
            N_FFT,
            HOP,
            N_FFT,
            self.window,
            center=True,
            pad_mode="reflect",
            normalized=False,
            return_complex=True,
        )

    @staticmethod
    def _normalised(spec: torch.Tensor) -> torch.Tensor:
        db = 20 * torch.log10(spec.abs().clamp(min=1e-9))
        return (db - _MAG_MIN_DB) / (-_MAG_MIN_DB + _HEADROOM_DB)

    @staticmethod
    def _linear(norm: torch.Tensor) -> torch.Tensor:
        db = norm * (-_MAG_MIN_DB + _HEADROOM_DB) + _MAG_MIN_DB
        return 10.0 ** (db / 20).clamp(max=10)

    @torch.inference_mode()
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The mark for mono 32 kHz ``x`` (n,), as a waveform (n,) to add to ``x``."""
        spec = self._stft(x)
        norm = self._normalised(spec)
        res = self.encoder(norm[None])[0]
        sub = spec[:SUBBAND]
        mag = sub.abs()
        new = self._linear(norm[:SUBBAND] + res)
        # residual spectrum: same phase, magnitude change; zero above the subband
        delta = torch.zeros_like(spec)
        delta[:SUBBAND] = torch.polar(new - mag, torch.angle(sub))
        return torch.istft(
            delta, N_FFT, HOP, N_FFT, self.window, center=True, normalized=False, length=x.shape[-1]
        )

    @torch.inference_mode()
    def score(self, x: torch.Tensor) -> float:
        """How strongly mono 32 kHz ``x`` carries the mark: about 1 marked, about 0 not."""
        norm = self._normalised(self._stft(x))
        return float(self.decoder(norm[None])[0])


def weights_path() -> Path:
    """The weights file inside the installed resemble-perth wheel (the package is not imported)."""
    spec = importlib.util.find_spec("perth")
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        path = Path(root) / WEIGHTS
        if path.is_file():
            return path
    raise PersonaError(
        "watermark_unavailable",
        "the watermark network's weights (resemble-perth 1.0.1) are not installed; "
        "Persona does not make unmarked audio",
        status=500,
    )


def load_perth(path: Path | None = None) -> PerthNet:
    """PerthNet with the shipped weights, read without running pickled code."""
    path = path or weights_path()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)["model"]
        # the front end's buffers (window, phase advance) are rebuilt here, not loaded
        state = {k: v for k, v in state.items() if k.startswith(("encoder.", "decoder."))}
        net = PerthNet()
        net.load_state_dict(state, strict=True)
    except PersonaError:
        raise
    except Exception as exc:
        raise PersonaError(
            "watermark_unavailable",
            f"the watermark network's weights cannot be loaded ({type(exc).__name__}: {exc}); "
            "Persona does not make unmarked audio",
            status=500,
        ) from exc
    return net.eval()
