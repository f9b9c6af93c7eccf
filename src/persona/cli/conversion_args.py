"""The voice-conversion flags `persona convert` and `persona cover` share, defined once.

Written from ``CONVERSION_PARAMS`` (``persona.cli.spec_args``): types, ranges, choices and
defaults are ``ConversionOptions``'s, so the CLI, the API and the page agree.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from persona.cli.spec_args import add_spec_flag
from persona.rvc.f0.autotune import KEY_NAMES
from persona.rvc.options import CONVERSION_PARAMS, F0_METHODS, ConversionOptions

# What each knob does; its range, choices and default are CONVERSION_PARAMS's (``spec_args``).
WHAT = {
    "pitch": "pitch shift in semitones",
    "f0_method": f"pitch extraction: {', '.join(F0_METHODS)}, or a hybrid such as hybrid[rmvpe+crepe]",
    "index_rate": "index influence",
    "filter_radius": "median filter radius for f0",
    "rms_mix_rate": "loudness envelope: 0 = the input's, 1 = the model's",
    "protect": "protect unvoiced consonants (0.5: off)",
    "f0_unvoiced": "unvoiced f0 frames: auto (the model's own convention), zero (classic RVC/Applio: "
    "0 Hz kept, protect acts on them) or interpolate (RVC 2026)",
    "autotune": "snap the pitch to the notes of --autotune-key with this strength (a bare flag: 1)",
    "autotune_key": f"'chromatic' or a key such as 'C major', 'F# minor' ({len(KEY_NAMES) - 1} keys)",
    "formant": "timbre shift in semitones, pitch kept",
    "embedder": "content encoder: 'auto' (the model's own), a name such as korean-hubert-base, "
    "or the folder of a custom transformers encoder",
    "f0_octave_fix": "double high notes the pitch tracker reported an octave low (off: RVC's curve)",
}
# Flags whose argparse form differs from the plain spec: values the request checks itself.
_FORM = {
    "autotune": {"nargs": "?", "const": 1.0, "metavar": "STRENGTH"},
    "f0_unvoiced": {"list_choices": False},
    "autotune_key": {"list_choices": False},
    "embedder": {"list_choices": False},
}


def add_model_args(p: argparse.ArgumentParser, *, index: bool = True) -> None:
    """``--model`` (a library name or a .pth) and, with ``index``, ``--index``."""
    p.add_argument("--model", required=True, help="model name in the library, or a path to a .pth")
    if index:
        p.add_argument("--index", help="path to the model's .index (default: the library's, if any)")


def add_conversion_args(
    p: argparse.ArgumentParser, *, pitch_type: Any = float, pitch_auto: bool = False
) -> None:
    """Add RVC's conversion knobs and Persona's voice controls to a command's parser.
    ``pitch_auto``: ``--pitch`` also takes ``auto`` (``pitch_type`` parses it)."""
    for name, spec in CONVERSION_PARAMS.items():
        what, extra = WHAT[name], _FORM.get(name, {})
        if name == "pitch":
            what = f"{what} ('auto': match the song)" if pitch_auto else what
            extra = {"type": pitch_type}
        add_spec_flag(p, name, spec, what, strict=False, **extra)


def conversion_options(args: argparse.Namespace, **overrides: Any) -> ConversionOptions:
    """The ConversionOptions the flags describe (a folder given to --embedder is left out: see below)."""
    values = {name: getattr(args, name) for name in CONVERSION_PARAMS}
    if embedder_folder(args):
        values["embedder"] = "auto"
    values.update(overrides)
    return ConversionOptions(**values)


def embedder_folder(args: argparse.Namespace) -> Path | None:
    """The custom encoder folder when --embedder names an existing folder, else None."""
    from persona.rvc import embedders

    value = str(getattr(args, "embedder", "") or "")
    if value.strip().lower() in (*embedders.NAMES, embedders.AUTO, ""):
        return None
    path = Path(value).expanduser()
    return path if path.is_dir() else None
