"""The voice-conversion flags `persona convert` and `persona cover` share, defined once.

Defaults come from ``ConversionOptions`` itself, so the CLI, the API and the page agree.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from persona.rvc.f0.autotune import KEY_NAMES
from persona.rvc.options import F0_METHODS, F0_UNVOICED_CHOICES, ConversionOptions

_D = ConversionOptions()


def add_conversion_args(p: argparse.ArgumentParser, *, pitch_type: Any = float) -> None:
    """Add RVC's conversion knobs and Persona's voice controls to a command's parser."""
    p.add_argument(
        "--pitch", type=pitch_type, default=_D.pitch, help="pitch shift in semitones, -24..24 (default 0)"
    )
    p.add_argument(
        "--f0-method",
        default=_D.f0_method,
        help=f"{', '.join(F0_METHODS)}, or a hybrid such as hybrid[rmvpe+crepe] (default {_D.f0_method})",
    )
    p.add_argument(
        "--index-rate", type=float, default=_D.index_rate, help="index influence 0..1 (default 0.75)"
    )
    p.add_argument(
        "--filter-radius", type=int, default=_D.filter_radius, help="median filter radius for f0 (default 3)"
    )
    p.add_argument(
        "--rms-mix-rate",
        type=float,
        default=_D.rms_mix_rate,
        help="0 = input loudness, 1 = model's (default 0.25)",
    )
    p.add_argument(
        "--protect", type=float, default=_D.protect, help="protect unvoiced consonants 0..0.5 (default 0.33)"
    )
    p.add_argument(
        "--f0-unvoiced",
        default=_D.f0_unvoiced,
        help=f"{'|'.join(F0_UNVOICED_CHOICES)}. Unvoiced f0 frames: auto (the model's own convention, "
        "default), zero (classic RVC/Applio: 0 Hz kept, protect acts on them) or interpolate (RVC 2026)",
    )
    p.add_argument(
        "--autotune",
        type=float,
        nargs="?",
        const=1.0,
        default=_D.autotune,
        metavar="STRENGTH",
        help="snap the pitch to the notes of --autotune-key, strength 0..1 (bare flag: 1)",
    )
    p.add_argument(
        "--autotune-key",
        default=_D.autotune_key,
        help=f"'chromatic' (default) or a key such as 'C major', 'F# minor' ({len(KEY_NAMES) - 1} keys)",
    )
    p.add_argument(
        "--formant",
        type=float,
        default=_D.formant,
        help="timbre shift in semitones, -12..12, pitch kept (default 0)",
    )
    p.add_argument(
        "--embedder",
        default=_D.embedder,
        help="content encoder: 'auto' (the model's own, default), a name such as korean-hubert-base, "
        "or the folder of a custom transformers encoder",
    )


def conversion_options(args: argparse.Namespace, **overrides: Any) -> ConversionOptions:
    """The ConversionOptions the flags describe (a folder given to --embedder is left out: see below)."""
    values = {
        "pitch": args.pitch,
        "f0_method": args.f0_method,
        "index_rate": args.index_rate,
        "filter_radius": args.filter_radius,
        "rms_mix_rate": args.rms_mix_rate,
        "protect": args.protect,
        "f0_unvoiced": args.f0_unvoiced,
        "autotune": args.autotune,
        "autotune_key": args.autotune_key,
        "formant": args.formant,
        "embedder": "auto" if embedder_folder(args) else args.embedder,
    }
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
