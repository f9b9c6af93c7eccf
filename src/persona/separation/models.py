"""The separation models Persona knows: what each one does, its files, and its published figures.

Owns the registry only (no torch). Every model runs through pymss (``MSSeparator``), which
implements BS-RoFormer, Mel-Band-RoFormer and HTDemucs without torchaudio/torchvision. Each model
is two assets under ``separation/``: the weights and the YAML configuration they were trained
with (pymss reads both). URLs are the publishers' own where known; the configuration files come
from the pymss model mirror (``huggingface.co/baicai1145/pymss``), which keeps each config beside
its weights under the same relative path.

Figures: "SDR" is the vocal signal-to-distortion ratio in dB as published by the model's author
or by ZFTurbo's Music-Source-Separation-Training table (MVSEP Multisong dataset), see README.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

PYMSS_MIRROR = "https://huggingface.co/baicai1145/pymss/resolve/main"


@dataclasses.dataclass(frozen=True)
class AssetFile:
    """One file of a model, as the assets manifest lists it."""

    name: str  # asset name, e.g. "separation/model_bs_roformer_ep_317_sdr_12.9755.ckpt"
    url: str
    size: int | None = None
    sha256: str | None = None  # None: no published checksum was found (see note)
    note: str = ""


@dataclasses.dataclass(frozen=True)
class SeparationModel:
    name: str  # Persona's short name (CLI flag value)
    title: str
    role: str  # "vocals" (mix -> vocals), "karaoke" (vocals -> lead), "dereverb" (vocal -> dry)
    arch: str  # pymss model_type
    weights: AssetFile
    config: AssetFile
    target: str  # the stem this model extracts (the residual is input - target)
    figures: str  # published quality, for the README and `persona assets status`
    cpu_friendly: bool = False
    # Fraction of each model chunk shared with the next one. Kept at demucs' default 0.25 rather
    # than the configs' 0.5-0.75: every extra overlap costs a whole extra pass on a CPU, and 2 s
    # of crossfade at the 8 s chunk edges is plenty for a mask model.
    overlap: float = 0.25
    inference: dict[str, Any] = dataclasses.field(default_factory=lambda: {"batch_size": 1})

    @property
    def assets(self) -> tuple[AssetFile, AssetFile]:
        return (self.weights, self.config)


_NO_SHA = "no published sha256 found; verified by size only"

BS_ROFORMER_VOCALS = SeparationModel(
    name="bs_roformer",
    title="BS-RoFormer vocals (viperx, ep 317)",
    role="vocals",
    arch="bs_roformer",
    weights=AssetFile(
        "separation/model_bs_roformer_ep_317_sdr_12.9755.ckpt",
        "https://github.com/TRvlvr/model_repo/releases/download/all_public_uvr_models/"
        "model_bs_roformer_ep_317_sdr_12.9755.ckpt",
        size=639331213,
        note=_NO_SHA,
    ),
    config=AssetFile(
        "separation/model_bs_roformer_ep_317_sdr_12.9755.yaml",
        f"{PYMSS_MIRROR}/vocal/vocal_extraction/model_bs_roformer_ep_317_sdr_12.9755.yaml",
        note=_NO_SHA,
    ),
    target="vocals",
    figures="vocals SDR 12.9755 dB (its validation score, in the file name); 10.87 dB on MVSEP Multisong",
    overlap=0.25,
)

HTDEMUCS_FT_VOCALS = SeparationModel(
    name="htdemucs",
    title="HTDemucs v4 fine-tuned vocals (Meta)",
    role="vocals",
    arch="htdemucs",
    weights=AssetFile(
        "separation/04573f0d-f3cf25b2.th",
        "https://dl.fbaipublicfiles.com/demucs/hybrid_transformer/04573f0d-f3cf25b2.th",
        size=84141271,
        note="Demucs names files <signature>-<first 8 hex of sha256>: sha256 starts with f3cf25b2",
    ),
    config=AssetFile(
        "separation/04573f0d-f3cf25b2.yaml",
        f"{PYMSS_MIRROR}/vocal/vocal_extraction/HTDemucs4_FT_vocals_official.yaml",
        note=_NO_SHA,
    ),
    target="vocals",
    figures="vocals SDR 8.38 dB on MVSEP Multisong (htdemucs 4-stem: 8.24 dB)",
    cpu_friendly=True,
    overlap=0.25,
)

MEL_ROFORMER_KARAOKE = SeparationModel(
    name="mel_roformer_karaoke",
    title="Mel-Band-RoFormer karaoke (aufr33 & viperx): lead / backing vocals",
    role="karaoke",
    arch="mel_band_roformer",
    weights=AssetFile(
        "separation/model_mel_band_roformer_karaoke_aufr33_viperx_sdr_10.1956.ckpt",
        f"{PYMSS_MIRROR}/karaoke/model_mel_band_roformer_karaoke_aufr33_viperx_sdr_10.1956.ckpt",
        size=913096801,
        note=_NO_SHA,
    ),
    config=AssetFile(
        "separation/model_mel_band_roformer_karaoke_aufr33_viperx_sdr_10.1956.yaml",
        f"{PYMSS_MIRROR}/karaoke/model_mel_band_roformer_karaoke_aufr33_viperx_sdr_10.1956.yaml",
        note=_NO_SHA,
    ),
    # RVC's own separation tab takes this stem as the main (lead) vocal.
    target="karaoke",
    figures="SDR 10.1956 dB (its validation score, in the file name)",
    overlap=0.25,
)

MEL_ROFORMER_DEREVERB = SeparationModel(
    name="mel_roformer_dereverb",
    title="Mel-Band-RoFormer de-reverb, less aggressive (anvuew)",
    role="dereverb",
    arch="mel_band_roformer",
    weights=AssetFile(
        "separation/dereverb_mel_band_roformer_less_aggressive_anvuew_sdr_18.8050.ckpt",
        "https://huggingface.co/anvuew/dereverb_mel_band_roformer/resolve/main/"
        "dereverb_mel_band_roformer_less_aggressive_anvuew_sdr_18.8050.ckpt",
        size=913107578,
        note=_NO_SHA,
    ),
    config=AssetFile(
        "separation/dereverb_mel_band_roformer_anvuew.yaml",
        "https://huggingface.co/anvuew/dereverb_mel_band_roformer/resolve/main/"
        "dereverb_mel_band_roformer_anvuew.yaml",
        note=_NO_SHA,
    ),
    target="noreverb",
    figures="SDR 18.8050 dB (its validation score, in the file name)",
    overlap=0.25,
)

MODELS: dict[str, SeparationModel] = {
    m.name: m for m in (BS_ROFORMER_VOCALS, HTDEMUCS_FT_VOCALS, MEL_ROFORMER_KARAOKE, MEL_ROFORMER_DEREVERB)
}
DEFAULT_MODEL = BS_ROFORMER_VOCALS.name
CPU_MODEL = HTDEMUCS_FT_VOCALS.name
KARAOKE_MODEL = MEL_ROFORMER_KARAOKE.name
DEREVERB_MODEL = MEL_ROFORMER_DEREVERB.name


AUTO = "auto"  # the best model the device can run in reasonable time


def resolve_model_name(name: str, device: str, installed: Callable[[str], bool] | None = None) -> str:
    """``auto`` -> BS-RoFormer on a GPU, htdemucs on a CPU (BS-RoFormer costs ~54 CPU-s per second
    of song on a 2-core CPU, htdemucs ~3.3), or the other one when only it is installed; any other
    name is kept as the user chose it."""
    if name != AUTO:
        return name
    preferred = [DEFAULT_MODEL, CPU_MODEL] if device.startswith("cuda") else [CPU_MODEL, DEFAULT_MODEL]
    if installed is not None:
        for candidate in preferred:
            if installed(candidate):
                return candidate
    return preferred[0]


def get_model(name: str, role: str | None = None) -> SeparationModel:
    """Look a model up by name (PersonaError ``separation_model_unknown`` otherwise)."""
    from persona.errors import PersonaError

    model = MODELS.get(name)
    if model is None or (role is not None and model.role != role):
        choices = ", ".join(m.name for m in MODELS.values() if role is None or m.role == role)
        raise PersonaError("separation_model_unknown", f"unknown separation model {name!r}; choose {choices}")
    return model


def asset_files() -> list[AssetFile]:
    """Every separation asset, for the assets manifest."""
    return [f for m in MODELS.values() for f in m.assets]
