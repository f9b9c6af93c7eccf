"""The separation models Persona knows: what each one does and which files it needs.

Owns the registry only (no torch). Every model runs through pymss (``MSSeparator``), which
implements BS-RoFormer, Mel-Band-RoFormer and HTDemucs without torchaudio/torchvision. Each model
is two assets under ``separation/``: the weights and the YAML configuration they were trained
with (pymss reads both). Their URLs, sizes and checksums are plain data in the assets manifest
(``persona.assets.manifest``); a model names its files by asset name.
Their published figures (vocal SDR) are in the same manifest entries, for `persona assets status`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any


@dataclasses.dataclass(frozen=True)
class SeparationModel:
    name: str  # Persona's short name (CLI flag value)
    title: str
    role: str  # "vocals" (mix -> vocals), "karaoke" (vocals -> lead), "dereverb" (vocal -> dry)
    arch: str  # pymss model_type
    weights: str  # asset name of the weights, e.g. "separation/model_bs_roformer_ep_317_sdr_12.9755.ckpt"
    config: str  # asset name of the YAML configuration
    target: str  # the stem this model extracts (the residual is input - target)
    cpu_friendly: bool = False
    # Fraction of each model chunk shared with the next one. Kept at demucs' default 0.25 rather
    # than the configs' 0.5-0.75: every extra overlap costs a whole extra pass on a CPU, and 2 s
    # of crossfade at the 8 s chunk edges is plenty for a mask model.
    overlap: float = 0.25
    inference: dict[str, Any] = dataclasses.field(default_factory=lambda: {"batch_size": 1})
    # Runs under CPU bf16 autocast where persona.precision allows it: only models whose bf16 stems
    # measured within 0.1 dB SDR of fp32's worst case (benchmarks/README.md, "bf16 per part").
    bf16: bool = False

    @property
    def assets(self) -> tuple[str, str]:
        return (self.weights, self.config)


BS_ROFORMER_VOCALS = SeparationModel(
    name="bs_roformer",
    title="BS-RoFormer vocals (viperx, ep 317)",
    role="vocals",
    arch="bs_roformer",
    weights="separation/model_bs_roformer_ep_317_sdr_12.9755.ckpt",
    config="separation/model_bs_roformer_ep_317_sdr_12.9755.yaml",
    target="vocals",
    overlap=0.25,
)

HTDEMUCS_FT_VOCALS = SeparationModel(
    name="htdemucs",
    title="HTDemucs v4 fine-tuned vocals (Meta)",
    role="vocals",
    arch="htdemucs",
    weights="separation/04573f0d-f3cf25b2.th",
    config="separation/04573f0d-f3cf25b2.yaml",
    target="vocals",
    cpu_friendly=True,
    overlap=0.25,
    bf16=True,  # 1.3x; stems 49.9 dB SDR from fp32's (BS-RoFormer: 37.8 dB, up to 0.48 dB worse)
)

MEL_ROFORMER_KARAOKE = SeparationModel(
    name="mel_roformer_karaoke",
    title="Mel-Band-RoFormer karaoke (aufr33 & viperx): lead / backing vocals",
    role="karaoke",
    arch="mel_band_roformer",
    weights="separation/model_mel_band_roformer_karaoke_aufr33_viperx_sdr_10.1956.ckpt",
    config="separation/model_mel_band_roformer_karaoke_aufr33_viperx_sdr_10.1956.yaml",
    # RVC's own separation tab takes this stem as the main (lead) vocal.
    target="karaoke",
    overlap=0.25,
)

MEL_ROFORMER_DEREVERB = SeparationModel(
    name="mel_roformer_dereverb",
    title="Mel-Band-RoFormer de-reverb, less aggressive (anvuew)",
    role="dereverb",
    arch="mel_band_roformer",
    weights="separation/dereverb_mel_band_roformer_less_aggressive_anvuew_sdr_18.8050.ckpt",
    config="separation/dereverb_mel_band_roformer_anvuew.yaml",
    target="noreverb",
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
