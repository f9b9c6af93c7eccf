"""Training hyper-parameters per sample rate, and the tiny configuration the tests train.

The numbers are RVC v2's (`configs/v2/32k.json`, `configs/v2/48k.json`, and for 40k RVC's own
choice of `configs/v1/40k.json`, which its web UI uses for v2 40k models too): AdamW lr 1e-4,
betas (0.8, 0.99), eps 1e-9, ExponentialLR gamma 0.999875 stepped per epoch, c_mel 45, c_kl 1.
``model_size="tiny"`` keeps the rate's audio framing (hop, FFT, mel bands) but shrinks the
generator so a CPU test trains two epochs in seconds; it is never used for real voices.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from persona.errors import PersonaError
from persona.rvc.formats import SR2SR

MODEL_SIZES = ("full", "tiny")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    sampling_rate: int
    filter_length: int
    hop_length: int
    win_length: int
    n_mel_channels: int
    mel_fmin: float = 0.0
    mel_fmax: float | None = None


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Keyword arguments of RVC's synthesizers (same names, same order as the exported config)."""

    inter_channels: int = 192
    hidden_channels: int = 192
    filter_channels: int = 768
    n_heads: int = 2
    n_layers: int = 6
    kernel_size: int = 3
    p_dropout: float = 0
    resblock: str = "1"
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    upsample_rates: tuple[int, ...] = (10, 10, 2, 2)
    upsample_initial_channel: int = 512
    upsample_kernel_sizes: tuple[int, ...] = (16, 16, 4, 4)
    spk_embed_dim: int = 109
    gin_channels: int = 256

    def kwargs(self) -> dict[str, Any]:
        """As RVC passes ``**hps.model`` (lists, not tuples)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, tuple):
                v = [list(x) if isinstance(x, tuple) else x for x in v]
            out[f.name] = v
        return out


@dataclasses.dataclass(frozen=True)
class TrainHParams:
    learning_rate: float = 1e-4
    betas: tuple[float, float] = (0.8, 0.99)
    eps: float = 1e-9
    lr_decay: float = 0.999875
    segment_size: int = 12800
    c_mel: float = 45.0
    c_kl: float = 1.0
    seed: int = 1234


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    rate: str
    data: DataConfig
    model: ModelConfig
    train: TrainHParams
    version: str = "v2"
    size: str = "full"
    d_channel_divisor: int = 1  # discriminator widths / this (tiny: 16); RVC's own is 1

    @property
    def spec_channels(self) -> int:
        return self.data.filter_length // 2 + 1

    @property
    def segment_frames(self) -> int:
        return self.train.segment_size // self.data.hop_length

    def synthesizer_args(self) -> tuple[list[Any], dict[str, Any]]:
        """Positional + keyword arguments for ``SynthesizerTrnMs768NSFsid`` as RVC's train.py builds it."""
        return [self.spec_channels, self.segment_frames], {
            **self.model.kwargs(),
            "sr": self.data.sampling_rate,
        }

    def export_config(self) -> list[Any]:
        """The ``config`` list stored in an exported small model (RVC's process_ckpt order)."""
        m = self.model.kwargs()
        return [
            self.spec_channels,
            32,
            m["inter_channels"],
            m["hidden_channels"],
            m["filter_channels"],
            m["n_heads"],
            m["n_layers"],
            m["kernel_size"],
            m["p_dropout"],
            m["resblock"],
            m["resblock_kernel_sizes"],
            m["resblock_dilation_sizes"],
            m["upsample_rates"],
            m["upsample_initial_channel"],
            m["upsample_kernel_sizes"],
            m["spk_embed_dim"],
            m["gin_channels"],
            self.data.sampling_rate,
        ]


_DATA = {
    "32k": DataConfig(32000, 1024, 320, 1024, 80),
    "40k": DataConfig(40000, 2048, 400, 2048, 125),
    "48k": DataConfig(48000, 2048, 480, 2048, 128),
}
_MODEL = {
    "32k": ModelConfig(upsample_rates=(10, 8, 2, 2), upsample_kernel_sizes=(20, 16, 4, 4)),
    "40k": ModelConfig(upsample_rates=(10, 10, 2, 2), upsample_kernel_sizes=(16, 16, 4, 4)),
    "48k": ModelConfig(upsample_rates=(12, 10, 2, 2), upsample_kernel_sizes=(24, 20, 4, 4)),
}
_SEGMENT = {"32k": 12800, "40k": 12800, "48k": 17280}


def training_config(rate: str = "40k", model_size: str = "full", **overrides: Any) -> TrainConfig:
    """RVC v2's configuration for ``rate``; ``model_size="tiny"`` for tests; ``overrides`` replace
    ModelConfig or TrainHParams fields by name (e.g. ``segment_size=4000``)."""
    if rate not in SR2SR:
        raise PersonaError("bad_sample_rate", f"sample rate must be one of {', '.join(SR2SR)}")
    if model_size not in MODEL_SIZES:
        raise PersonaError("bad_model_size", f"model size must be one of {', '.join(MODEL_SIZES)}")
    model = _MODEL[rate]
    train = TrainHParams(segment_size=_SEGMENT[rate])
    if model_size == "tiny":
        model = dataclasses.replace(
            model,
            inter_channels=8,
            hidden_channels=8,
            filter_channels=16,
            n_layers=1,
            resblock_kernel_sizes=(3,),
            resblock_dilation_sizes=((1, 3, 5),),
            upsample_initial_channel=16,
            spk_embed_dim=4,
            gin_channels=8,
        )
        # A larger step so that two epochs of a few steps visibly lower the mel loss.
        train = dataclasses.replace(train, segment_size=_DATA[rate].hop_length * 12, learning_rate=2e-3)
    model_fields = {f.name for f in dataclasses.fields(ModelConfig)}
    train_fields = {f.name for f in dataclasses.fields(TrainHParams)}
    unknown = set(overrides) - model_fields - train_fields
    if unknown:
        raise ValueError(f"unknown training config overrides: {sorted(unknown)}")
    model = dataclasses.replace(model, **{k: v for k, v in overrides.items() if k in model_fields})
    train = dataclasses.replace(train, **{k: v for k, v in overrides.items() if k in train_fields})
    return TrainConfig(
        rate=rate,
        data=_DATA[rate],
        model=model,
        train=train,
        size=model_size,
        d_channel_divisor=16 if model_size == "tiny" else 1,
    )
