"""RMVPE pitch estimator: our own network and mel front end that load RVC's ``rmvpe.pt`` strictly.

Numerics follow RVC's ``infer/rmvpe.py``: log-mel of 128 HTK-scale bands (30..8000 Hz, Slaney
area norm, n_fft = win = 1024, hop 160, centred reflect-padded STFT with a periodic Hann window,
``log(clamp(mel, 1e-5))``); the E2E network (deep U-Net of residual conv blocks, a 3-channel conv,
a BiGRU and a 360-bin sigmoid head) on frames padded to a multiple of 32; local weighted-average
decoding over 9 bins around the argmax, with 0 Hz where the peak salience is <= ``thred`` (0.03).
The module tree mirrors RVC's so parameter names match; its sizes are read from the state dict,
so smaller test models load too. The mel filterbank is built here (no librosa at runtime; the
triangles between its HTK band edges are ``mel.py``'s);
``tests/test_f0_rmvpe.py`` checks it equals ``librosa.filters.mel(htk=True)``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from torch import nn

from persona.errors import PersonaError
from persona.rvc.f0.mel import triangular_filters
from persona.rvc.pth import read_checkpoint

N_MELS = 128
N_CLASS = 360
SR = 16000
N_FFT = 1024
HOP = 160
MEL_FMIN = 30.0
MEL_FMAX = 8000.0
CENTS_MAPPING = np.pad(20 * np.arange(N_CLASS) + 1997.3794084376191, (4, 4))


# ---------------------------------------------------------------- mel front end


def _hz_to_mel_htk(f: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def _mel_to_hz_htk(m: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(
    sr: int = SR, n_fft: int = N_FFT, n_mels: int = N_MELS, fmin: float = MEL_FMIN, fmax: float = MEL_FMAX
) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) float32 triangular HTK-mel filters with Slaney area normalisation."""
    edges = _mel_to_hz_htk(np.linspace(_hz_to_mel_htk(fmin), _hz_to_mel_htk(fmax), n_mels + 2))
    return triangular_filters(edges, sr, n_fft)


class MelSpectrogram(nn.Module):
    """RVC's RMVPE log-mel (no key shift / speed change: RVC's inference never uses them)."""

    def __init__(self, half: bool = False) -> None:
        super().__init__()
        self.half = half  # RVC takes the log in fp16 when it runs the model in fp16
        self.register_buffer("mel_basis", torch.from_numpy(mel_filterbank()), persistent=False)
        self.register_buffer("window", torch.hann_window(N_FFT), persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        fft = torch.stft(
            audio, n_fft=N_FFT, hop_length=HOP, win_length=N_FFT, window=self.window,
            center=True, return_complex=True,
        )  # fmt: skip
        magnitude = torch.sqrt(fft.real.pow(2) + fft.imag.pow(2))
        mel = torch.matmul(self.mel_basis, magnitude)
        if self.half:
            mel = mel.half()
        return torch.log(torch.clamp(mel, min=1e-5))


# ---------------------------------------------------------------- network (RVC's module tree)


class ConvBlockRes(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(cin, cout, (3, 3), padding=(1, 1), bias=False),
            nn.BatchNorm2d(cout, momentum=0.01),
            nn.ReLU(),
            nn.Conv2d(cout, cout, (3, 3), padding=(1, 1), bias=False),
            nn.BatchNorm2d(cout, momentum=0.01),
            nn.ReLU(),
        )
        self.shortcut = nn.Conv2d(cin, cout, (1, 1)) if cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) + (x if self.shortcut is None else self.shortcut(x))


class ResEncoderBlock(nn.Module):
    def __init__(self, cin: int, cout: int, pool: bool, n_blocks: int) -> None:
        super().__init__()
        self.conv = nn.ModuleList(
            [ConvBlockRes(cin, cout)] + [ConvBlockRes(cout, cout) for _ in range(n_blocks - 1)]
        )
        self.pool = nn.AvgPool2d(kernel_size=(2, 2)) if pool else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.conv:
            x = conv(x)
        return x


class Encoder(nn.Module):
    def __init__(self, n_layers: int, n_blocks: int, out_channels: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(1, momentum=0.01)
        self.layers = nn.ModuleList()
        cin = 1
        for _ in range(n_layers):
            self.layers.append(ResEncoderBlock(cin, out_channels, True, n_blocks))
            cin, out_channels = out_channels, out_channels * 2
        self.out_channel = out_channels

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        skips = []
        x = self.bn(x)
        for layer in self.layers:
            t = layer(x)
            skips.append(t)
            x = layer.pool(t)
        return x, skips


class Intermediate(nn.Module):
    def __init__(self, cin: int, cout: int, n_inters: int, n_blocks: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            [ResEncoderBlock(cin, cout, False, n_blocks)]
            + [ResEncoderBlock(cout, cout, False, n_blocks) for _ in range(n_inters - 1)]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class ResDecoderBlock(nn.Module):
    def __init__(self, cin: int, cout: int, n_blocks: int) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.ConvTranspose2d(
                cin, cout, (3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1), bias=False
            ),
            nn.BatchNorm2d(cout, momentum=0.01),
            nn.ReLU(),
        )
        self.conv2 = nn.ModuleList(
            [ConvBlockRes(cout * 2, cout)] + [ConvBlockRes(cout, cout) for _ in range(n_blocks - 1)]
        )

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = torch.cat((self.conv1(x), skip), dim=1)
        for conv in self.conv2:
            x = conv(x)
        return x


class Decoder(nn.Module):
    def __init__(self, cin: int, n_layers: int, n_blocks: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList()
        for _ in range(n_layers):
            self.layers.append(ResDecoderBlock(cin, cin // 2, n_blocks))
            cin //= 2

    def forward(self, x: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x, skips[-1 - i])
        return x


class DeepUnet(nn.Module):
    def __init__(self, n_blocks: int, en_de_layers: int, inter_layers: int, en_out_channels: int) -> None:
        super().__init__()
        self.encoder = Encoder(en_de_layers, n_blocks, en_out_channels)
        self.intermediate = Intermediate(
            self.encoder.out_channel // 2, self.encoder.out_channel, inter_layers, n_blocks
        )
        self.decoder = Decoder(self.encoder.out_channel, en_de_layers, n_blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, skips = self.encoder(x)
        return self.decoder(self.intermediate(x), skips)


class BiGRU(nn.Module):
    def __init__(self, n_in: int, hidden: int, n_layers: int) -> None:
        super().__init__()
        self.gru = nn.GRU(n_in, hidden, num_layers=n_layers, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gru(x)[0]


class E2E(nn.Module):
    """RVC's E2E(n_blocks=4, n_gru=1, kernel_size=(2, 2)) by default; other sizes for small models."""

    def __init__(
        self, n_blocks: int = 4, n_gru: int = 1, en_de_layers: int = 5, inter_layers: int = 4,
        en_out_channels: int = 16, gru_hidden: int = 256,
    ) -> None:  # fmt: skip
        super().__init__()
        self.unet = DeepUnet(n_blocks, en_de_layers, inter_layers, en_out_channels)
        self.cnn = nn.Conv2d(en_out_channels, 3, (3, 3), padding=(1, 1))
        if n_gru:
            self.fc = nn.Sequential(
                BiGRU(3 * N_MELS, gru_hidden, n_gru),
                nn.Linear(2 * gru_hidden, N_CLASS),
                nn.Dropout(0.25),
                nn.Sigmoid(),
            )
        else:
            self.fc = nn.Sequential(nn.Linear(3 * N_MELS, N_CLASS), nn.Dropout(0.25), nn.Sigmoid())

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = mel.transpose(-1, -2).unsqueeze(1)
        x = self.cnn(self.unet(x)).transpose(1, 2).flatten(-2)
        return self.fc(x)


def e2e_sizes(sd: dict[str, torch.Tensor]) -> dict[str, int]:
    """Infer E2E's constructor arguments from an RMVPE state dict."""

    def count(pattern: str) -> int:
        return len({m[1] for k in sd if (m := re.fullmatch(pattern, k))})

    n_gru = count(r"fc\.0\.gru\.weight_ih_l(\d+)")
    return {
        "n_blocks": count(r"unet\.encoder\.layers\.0\.conv\.(\d+)\..*"),
        "n_gru": n_gru,
        "en_de_layers": count(r"unet\.encoder\.layers\.(\d+)\..*"),
        "inter_layers": count(r"unet\.intermediate\.layers\.(\d+)\..*"),
        "en_out_channels": int(sd["unet.encoder.layers.0.conv.0.conv.0.weight"].shape[0]),
        "gru_hidden": int(sd["fc.0.gru.weight_hh_l0"].shape[1]) if n_gru else 256,
    }


# ---------------------------------------------------------------- the estimator


def decode(salience: np.ndarray, thred: float = 0.03) -> np.ndarray:
    """(frames, 360) salience -> f0 Hz (float64); 0 where the peak is <= thred."""
    center = np.argmax(salience, axis=1) + 4
    padded = np.pad(salience, ((0, 0), (4, 4)))
    idx = center[:, None] + np.arange(-4, 5)[None, :]
    window = np.take_along_axis(padded, idx, axis=1)
    cents = np.sum(window * CENTS_MAPPING[idx], 1) / np.sum(window, 1)
    cents[np.max(padded, axis=1) <= thred] = 0
    f0 = 10 * (2 ** (cents / 1200))
    f0[f0 == 10] = 0
    return f0


class RMVPE:
    """Loads ``rmvpe.pt`` and turns 16 kHz audio into f0 every 10 ms (fp16 on CUDA, as RVC)."""

    def __init__(self, model: E2E, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.half = self.device.type == "cuda"
        self.model = model.to(self.device, torch.float16 if self.half else torch.float32).eval()
        self.mel = MelSpectrogram(self.half).to(self.device)

    @classmethod
    def from_path(cls, path: str | Path, device: str | torch.device = "cpu") -> RMVPE:
        path = Path(path)
        if not path.is_file():
            raise PersonaError("asset_missing", f"RMVPE weights not found at {path}")
        sd = read_checkpoint(path, code="asset_invalid")
        if isinstance(sd, dict) and isinstance(sd.get("model"), dict):
            sd = sd["model"]
        if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
            raise PersonaError("asset_invalid", f"{path} is not an RMVPE state dict")
        try:
            model = E2E(**e2e_sizes(sd))
            model.load_state_dict(sd, strict=True)
        except (KeyError, RuntimeError, IndexError, ValueError) as exc:
            first = str(exc).splitlines()[0][:300]
            raise PersonaError("asset_invalid", f"{path} is not an RMVPE model: {first}") from exc
        return cls(model, device)

    @torch.no_grad()
    def salience(self, audio: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.asarray(audio)).float().to(self.device)
        mel = self.mel(x.unsqueeze(0))
        n_frames = mel.shape[-1]
        n_pad = 32 * ((n_frames - 1) // 32 + 1) - n_frames
        if n_pad > 0:
            mel = torch.nn.functional.pad(mel, (0, n_pad), mode="constant")
        hidden = self.model(mel.half() if self.half else mel.float())[:, :n_frames]
        return hidden.squeeze(0).float().cpu().numpy()

    def infer_from_audio(self, audio: np.ndarray, thred: float = 0.03) -> np.ndarray:
        return decode(self.salience(audio), thred)
