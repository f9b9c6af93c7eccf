"""FCPE pitch estimator: our own network and mel front end for torchfcpe's weights, no torchaudio.

torchfcpe 0.0.4 imports torchaudio at module level (for resampling we never need: RVC feeds 16 kHz),
so it is only located, not imported; its bundled ``assets/fcpe_c_v001.pt`` (``{"model": state_dict,
"config_dict": {...}}``, or the same format as the ``fcpe.pt`` asset) is read with
``persona.rvc.pth.read_checkpoint`` (weights only). Numerics follow torchfcpe's ``spawn_bundled_infer_model`` + ``infer`` as
RVC's ``infer/fcpe.py`` calls them (``decoder_mode="local_argmax"``, ``threshold=0.006``):
log-mel of 128 Slaney-scale bands (0..8000 Hz, librosa's default filterbank), STFT n_fft = win =
1024, hop 160, reflect-padded by 432 samples each side and not centred, magnitude
``sqrt(re^2 + im^2 + 1e-9)``, ``log(clamp(., 1e-5))``, the last frame repeated to
``len // 160 + 1`` frames; the conv-only ConformerNaive network (input conv stack, 6 residual
conformer-conv blocks, LayerNorm, weight-normed linear, sigmoid); local weighted average of the
cent table over 9 bins around the argmax, 0 Hz where the peak is <= threshold.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from persona.errors import PersonaError
from persona.interrupt import outside
from persona.rvc.f0 import pieces
from persona.rvc.f0.mel import triangular_filters
from persona.rvc.pth import read_checkpoint


def _hz_to_mel_slaney(f: np.ndarray) -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mels)


def _mel_to_hz_slaney(m: np.ndarray) -> np.ndarray:
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def slaney_mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """librosa.filters.mel's default (Slaney scale, Slaney norm), float32."""
    edges = _mel_to_hz_slaney(np.linspace(_hz_to_mel_slaney(fmin), _hz_to_mel_slaney(fmax), n_mels + 2))
    return triangular_filters(edges, sr, n_fft)


class Wav2Mel(nn.Module):
    def __init__(self, sr: int = 16000, n_mels: int = 128, n_fft: int = 1024, win: int = 1024, hop: int = 160,
                 fmin: float = 0.0, fmax: float = 8000.0) -> None:  # fmt: skip
        super().__init__()
        self.sr, self.n_fft, self.win, self.hop = sr, n_fft, win, hop
        basis = slaney_mel_filterbank(sr, n_fft, n_mels, fmin, fmax)
        self.register_buffer("mel_basis", torch.tensor(basis).float(), persistent=False)
        self.register_buffer("window", torch.hann_window(win), persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, T) 16 kHz -> (B, T // hop + 1, n_mels)."""
        n = audio.size(-1)
        pad_left = (self.win - self.hop) // 2
        pad_right = max((self.win - self.hop + 1) // 2, self.win - n - pad_left)
        mode = "reflect" if pad_right < n else "constant"
        y = F.pad(audio.unsqueeze(1), (pad_left, pad_right), mode=mode).squeeze(1)
        spec = torch.stft(
            y, self.n_fft, hop_length=self.hop, win_length=self.win, window=self.window, center=False,
            pad_mode="reflect", normalized=False, onesided=True, return_complex=True,
        )  # fmt: skip
        spec = torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + 1e-9)
        mel = torch.log(torch.clamp(torch.matmul(self.mel_basis, spec), min=1e-5)).transpose(-1, -2)
        n_frames = n // self.hop + 1
        if n_frames > mel.shape[1]:
            mel = torch.cat((mel, mel[:, -1:, :]), 1)
        return mel[:, :n_frames, :]


def _group_norm(x: torch.Tensor, norm: nn.GroupNorm, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """``norm`` applied to (B, C, T) with the given per-group statistics instead of ``x``'s."""
    b, c, t = x.shape
    g = x.view(b, norm.num_groups, -1, t)
    g = (g - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + norm.eps)
    return g.view(b, c, t) * norm.weight.view(1, -1, 1) + norm.bias.view(1, -1, 1)


class _Transpose(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2)


class _DepthWise(nn.Module):
    def __init__(self, ch: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(ch, ch, kernel, padding=kernel // 2, groups=ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class ConformerConv(nn.Module):
    """torchfcpe's ConformerConvModule (expansion 2, depthwise kernel 31); names kept."""

    def __init__(self, dim: int, kernel: int = 31) -> None:
        super().__init__()
        inner = dim * 2
        self.net = nn.Sequential(
            nn.LayerNorm(dim), _Transpose(), nn.Conv1d(dim, inner * 2, 1), nn.GLU(dim=1),
            _DepthWise(inner, kernel), nn.SiLU(), nn.Conv1d(inner, dim, 1), _Transpose(),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class EncoderLayer(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conformer = ConformerConv(dim)
        self.norm = nn.LayerNorm(dim)  # only used by the attention variant; present in the weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conformer(x)


class _Net(nn.Module):
    def __init__(self, dim: int, n_layers: int) -> None:
        super().__init__()
        self.encoder_layers = nn.ModuleList([EncoderLayer(dim) for _ in range(n_layers)])


class FCPE(nn.Module):
    """torchfcpe's CFNaiveMelPE in its conv-only form (the bundled ``fcpe_c_v001``)."""

    def __init__(self, n_mels: int = 128, out_dims: int = 360, hidden: int = 512, n_layers: int = 6) -> None:
        super().__init__()
        self.input_stack = nn.Sequential(
            nn.Conv1d(n_mels, hidden, 3, 1, 1),
            nn.GroupNorm(4, hidden),
            nn.LeakyReLU(),
            nn.Conv1d(hidden, hidden, 3, 1, 1),
        )
        self.net = _Net(hidden, n_layers)
        self.norm = nn.LayerNorm(hidden)
        self.output_proj = weight_norm(nn.Linear(hidden, out_dims))
        self.register_buffer("cent_table", torch.zeros(out_dims))
        self.register_buffer("gaussian_blurred_cent_mask", torch.zeros(()))

    def forward(
        self, mel: torch.Tensor, norm_stats: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """(B, T, n_mels) -> (B, T, bins). ``norm_stats`` (per-group mean and variance of the first
        convolution's output) replace the GroupNorm's own, for a piece of a longer input."""
        if norm_stats is None:
            x = self.input_stack(mel.transpose(-1, -2)).transpose(-1, -2)
        else:
            conv1, norm, act, conv2 = self.input_stack
            x = conv2(act(_group_norm(conv1(mel.transpose(-1, -2)), norm, *norm_stats))).transpose(-1, -2)
        for layer in self.net.encoder_layers:
            x = layer(x)
        return torch.sigmoid(self.output_proj(self.norm(x)))

    @torch.no_grad()
    def decode(self, y: torch.Tensor, threshold: float) -> torch.Tensor:
        """local_argmax: (B, T, bins) -> f0 Hz (B, T, 1), 0 where the peak is <= threshold."""
        b, n, _ = y.size()
        ci = self.cent_table[None, None, :].expand(b, n, -1)
        confident, max_index = torch.max(y, dim=-1, keepdim=True)
        idx = torch.arange(0, 9, device=y.device) + (max_index - 4)
        idx = idx.clamp(0, y.size(-1) - 1)
        ci_l, y_l = torch.gather(ci, -1, idx), torch.gather(y, -1, idx)
        cents = torch.sum(ci_l * y_l, dim=-1, keepdim=True) / torch.sum(y_l, dim=-1, keepdim=True)
        mask = torch.ones_like(confident)
        mask[confident <= threshold] = float("-inf")
        return 10.0 * 2 ** ((cents * mask) / 1200.0)


def bundled_path() -> Path:
    """torchfcpe's bundled weights, found without importing torchfcpe."""
    spec = importlib.util.find_spec("torchfcpe")
    if spec is None or not spec.submodule_search_locations:
        raise PersonaError(
            "f0_unavailable",
            "the 'fcpe' pitch method needs the fcpe.pt asset or the torchfcpe package installed",
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "assets" / "fcpe_c_v001.pt"
    if not path.is_file():
        raise PersonaError("f0_unavailable", f"torchfcpe's weights are missing: {path}")
    return path


def load_fcpe(path: str | Path, device: str | torch.device = "cpu") -> tuple[Wav2Mel, FCPE]:
    path = Path(path)
    ckpt = read_checkpoint(path, code="asset_invalid")
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("model"), dict):
        raise PersonaError("asset_invalid", f"{path} is not an FCPE checkpoint (no 'model' state dict)")
    cfg = ckpt.get("config_dict") or {}
    mcfg, mel_cfg = cfg.get("model", {}), cfg.get("mel", {})
    if mcfg.get("type", "CFNaiveMelPE") != "CFNaiveMelPE" or not mcfg.get("conv_only", True):
        raise PersonaError(
            "asset_invalid", f"{path}: only the conv-only CFNaiveMelPE FCPE model is supported"
        )
    sd = ckpt["model"]
    try:
        model = FCPE(
            n_mels=int(mel_cfg.get("num_mels", 128)),
            out_dims=int(sd["cent_table"].shape[0]),
            hidden=int(sd["norm.weight"].shape[0]),
            n_layers=len({k.split(".")[2] for k in sd if k.startswith("net.encoder_layers.")}),
        )
        model.load_state_dict(sd, strict=True)
    except (KeyError, RuntimeError, ValueError, AttributeError) as exc:
        first = str(exc).splitlines()[0][:300]
        raise PersonaError("asset_invalid", f"{path} is not an FCPE model: {first}") from exc
    wav2mel = Wav2Mel(
        sr=int(mel_cfg.get("sr", 16000)), n_mels=int(mel_cfg.get("num_mels", 128)),
        n_fft=int(mel_cfg.get("n_fft", 1024)), win=int(mel_cfg.get("win_size", 1024)),
        hop=int(mel_cfg.get("hop_size", 160)), fmin=float(mel_cfg.get("fmin", 0) or 0),
        fmax=float(mel_cfg.get("fmax", 8000) or 8000),
    )  # fmt: skip
    if wav2mel.sr != 16000 or wav2mel.hop != 160:
        raise PersonaError(
            "asset_invalid", f"{path}: FCPE models other than 16 kHz / hop 160 are not supported"
        )
    return wav2mel.to(device), model.to(device).eval()


@lru_cache(maxsize=2)
def _cached(path: str, mtime: float, device: str) -> tuple[Wav2Mel, FCPE]:
    return load_fcpe(path, device)


@torch.no_grad()
def fcpe_f0(
    x: np.ndarray,
    *,
    device: str | torch.device = "cpu",
    path: str | Path | None = None,
    threshold: float = 0.006,
) -> np.ndarray:
    """f0 (float32 Hz, ``len(x) // 160 + 1`` frames) as RVC's fcpe branch computes it."""
    p = Path(path) if path is not None else bundled_path()
    if not p.is_file():
        raise PersonaError("asset_missing", f"FCPE weights not found at {p}")
    wav2mel, model = outside(lambda: _cached(str(p), p.stat().st_mtime, str(device)), None)
    dev = next(model.parameters()).device
    bounds = pieces.piece_bounds(len(x), PIECE_RULE)
    if len(bounds) == 1:
        wav = torch.from_numpy(np.asarray(x)).unsqueeze(0).float().to(dev)
        return model.decode(model(wav2mel(wav)), threshold).squeeze().cpu().numpy()
    return _in_pieces(np.asarray(x), bounds, wav2mel, model, dev, threshold)


# FCPE's reach: the STFT (3 frames), two 3-wide convolutions and six 31-wide ones (< 1 s in all).
PIECE_RULE = pieces.PieceRule(context_s=2.0)


def _in_pieces(
    x: np.ndarray, bounds: list, wav2mel: Wav2Mel, model: FCPE, dev: torch.device, threshold: float
) -> np.ndarray:
    """The one-pass curve of a long input, piece by piece: a first pass sums the first
    convolution's output per GroupNorm group over the whole input (each frame once), the second
    runs every piece with those statistics."""

    def mel_of(start: int, stop: int) -> torch.Tensor:
        return wav2mel(torch.from_numpy(x[start:stop]).unsqueeze(0).float().to(dev))

    def kept(t: torch.Tensor, keep_from: int, keep_to: int) -> torch.Tensor:
        return t[..., keep_from:] if keep_to < 0 else t[..., keep_from:keep_to]

    conv1, norm = model.input_stack[0], model.input_stack[1]
    total = torch.zeros(norm.num_groups, dtype=torch.float64)
    squares = torch.zeros(norm.num_groups, dtype=torch.float64)
    count = 0
    for start, stop, keep_from, keep_to in bounds:
        h = kept(conv1(mel_of(start, stop).transpose(-1, -2)), keep_from, keep_to)
        g = h.reshape(norm.num_groups, -1).double().cpu()
        total += g.sum(dim=1)
        squares += g.square().sum(dim=1)
        count += g.shape[1]
    mean = total / count
    stats = (mean.float().to(dev), (squares / count - mean.square()).clamp(min=0).float().to(dev))
    curves = []
    for start, stop, keep_from, keep_to in bounds:
        f0 = model.decode(model(mel_of(start, stop), stats), threshold)  # (1, T, 1)
        curves.append(kept(f0[0, :, 0], keep_from, keep_to).cpu().numpy())
    return np.concatenate(curves)
