"""`persona cover`: the whole cover pipeline from the command line, with a progress bar.

Flags, defaults, ranges and choices are the request's own (``persona.cover.request.COVER_PARAMS``,
``CoverRequest``), written by ``persona.cli.spec_args``.
"""

from __future__ import annotations

import argparse

from persona.cli.conversion_args import add_conversion_args, add_model_args, conversion_options
from persona.cli.spec_args import add_spec_flag
from persona.cover.request import COVER_PARAMS, CoverRequest
from persona.params import default_of
from persona.rvc.options import CONVERSION_PARAMS
from persona.separation.models import CPU_MODEL, DEFAULT_MODEL


def _pitch(value: str) -> str | float:
    if value == "auto":
        return value
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("--pitch takes semitones (-24..24) or 'auto'") from None


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``persona cover`` to the top-level parser."""
    p = sub.add_parser(
        "cover",
        help="make a cover of a song in a voice model's voice",
        description="Separate a song's vocals, convert them into a voice model's voice, mix them back.",
    )
    add_model_args(p)
    p.add_argument("--song", required=True, help="the song (wav/mp3/flac/ogg/m4a)")
    p.add_argument(
        "--output", help="output file (.wav .mp3 .flac .ogg .opus .m4a .aac; default: in the covers folder)"
    )
    add_conversion_args(p, pitch_type=_pitch, pitch_auto=True)
    for name, what in (
        ("vocal_gain", "converted vocal gain in dB"),
        ("instrumental_gain", "instrumental gain in dB"),
    ):  # the request takes +-24 dB; the range shown is the API's
        add_spec_flag(p, name, COVER_PARAMS[name], what, show_range=False)
    p.add_argument(
        "--backing-gain",
        type=float,
        default=default_of(CoverRequest, "backing_gain_db"),
        help="backing vocal gain in dB",
    )
    add_spec_flag(p, "reverb", COVER_PARAMS["reverb"], "reverb on the vocal")
    p.add_argument("--no-compress", action="store_true", help="no compression on the vocal")
    for name, what in (
        ("key_mode", "vocals: only the voice is shifted; song: the instrumental follows the pitch"),
        (
            "separation_model",
            f"vocal separation model (auto: {DEFAULT_MODEL} on a GPU, {CPU_MODEL} on a CPU)",
        ),
        ("lead_backing", "split lead and backing vocals"),
        ("backing", "with --lead-backing: mix the backing vocals original, converted or not at all"),
        ("dereverb", "de-reverb the vocal before conversion"),
    ):
        add_spec_flag(p, name, COVER_PARAMS[name], what)
    target = default_of(CoverRequest, "target_lufs")
    p.add_argument(
        "--target-lufs", type=float, default=target, help=f"loudness target (default {target:g} LUFS)"
    )
    p.add_argument(
        "--format",
        choices=COVER_PARAMS["format"].choices,
        default=None,
        help=f"output format (default: from --output, else {COVER_PARAMS['format'].default})",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


# COVER_PARAMS the CLI spells otherwise: --pitch auto, and --format read with --output.
_NOT_FLAGS = ("pitch_auto", "format")


def _spec_flags(args: argparse.Namespace) -> dict:
    """The request fields of the flags written from COVER_PARAMS (conversion ones aside)."""
    return {
        spec.field or name: getattr(args, name)
        for name, spec in COVER_PARAMS.items()
        if name not in CONVERSION_PARAMS and name not in _NOT_FLAGS
    }


def run(args: argparse.Namespace, settings) -> int:
    from pathlib import Path

    from persona.cli.bar import ProgressBar
    from persona.cli.conversion_args import embedder_folder
    from persona.cover import make_cover
    from persona.errors import PersonaError
    from persona.library import resolve_model_ref

    if embedder_folder(args) is not None:
        raise PersonaError(
            "embedder_unknown",
            "cover takes a content encoder by name; a custom folder works with persona convert",
        )
    fmt = args.format
    if args.output and fmt and Path(args.output).suffix.lower() != f".{fmt}":
        raise PersonaError("format_invalid", f"--format {fmt} does not match --output {args.output}")
    request = CoverRequest(
        song=Path(args.song),
        model=args.model,
        output=Path(args.output) if args.output else None,
        index=Path(args.index) if args.index else None,
        conversion=conversion_options(args, pitch=0.0 if args.pitch == "auto" else args.pitch),
        pitch_auto=args.pitch == "auto",
        **_spec_flags(args),
        backing_gain_db=args.backing_gain,
        compress=not args.no_compress,
        format=fmt or COVER_PARAMS["format"].default,
        target_lufs=args.target_lufs,
    ).validate()
    with ProgressBar("cover", enabled=False if args.quiet else None) as bar:
        result = make_cover(settings, request, bar, resolve_model=resolve_model_ref)
    hint = "" if result.suggested_pitch is None else f" (suggested pitch {result.suggested_pitch:+d})"
    print(
        f"{result.path}  {result.duration_s:.1f} s, pitch {result.pitch:+g}{hint}, "
        f"{result.loudness_lufs:.1f} LUFS{', stems from cache' if result.stems_cached else ''}"
    )
    return 0
