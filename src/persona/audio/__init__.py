"""Audio in and out of Persona: decoding, encoding, resampling (and later slicing, mixing).

``persona.audio.io`` decodes/encodes files; ``persona.audio.resample`` converts rates.
"""

from persona.audio.io import AudioInfo, ensure_not_silent, load_audio, probe_audio, save_audio
from persona.audio.resample import resample

__all__ = ["AudioInfo", "ensure_not_silent", "load_audio", "probe_audio", "resample", "save_audio"]
