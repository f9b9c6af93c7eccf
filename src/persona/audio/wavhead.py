"""The 44-byte RIFF/WAVE header of 16-bit PCM, for serving a growing raw PCM file as a WAV.

Light (struct only): the web process puts it before the ready part of a progressive cover's
preview (``persona.audio.preview``) without importing the audio stack.
"""

from __future__ import annotations

import struct

HEADER_BYTES = 44
# The playable part of a progressive cover: this file in the job attempt's scratch folder, raw
# interleaved s16le with this many channels at the song's rate.
PREVIEW_FILE = "preview.pcm"
PREVIEW_CHANNELS = 2


def wav_header(sr: int, channels: int, frames: int, bits: int = 16) -> bytes:
    """The canonical PCM WAV header for ``frames`` frames (data follows it directly)."""
    block = channels * bits // 8
    data = frames * block
    return b"".join(
        (
            b"RIFF",
            struct.pack("<I", 36 + data),
            b"WAVEfmt ",
            struct.pack("<IHHIIHH", 16, 1, channels, sr, sr * block, block, bits),
            b"data",
            struct.pack("<I", data),
        )
    )
