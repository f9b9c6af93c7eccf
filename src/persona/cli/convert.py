"""`persona convert`: voice conversion of a vocal track, with a progress bar on a terminal."""

from __future__ import annotations

import argparse

from persona.cli.conversion_args import (
    add_conversion_args,
    add_model_args,
    conversion_options,
    embedder_folder,
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``persona convert`` to the top-level parser."""
    p = sub.add_parser(
        "convert",
        help="convert a vocal track into a voice model's voice",
        description="Convert a vocal track (wav/mp3/flac/ogg/m4a) into the voice of an RVC model.",
    )
    add_model_args(p)
    p.add_argument("--input", required=True, help="input vocal (any audio file)")
    p.add_argument("--output", required=True, help="output file (.wav .mp3 .flac .ogg .opus .m4a .aac)")
    add_conversion_args(p)
    p.add_argument("--resample-sr", type=int, default=0, help="output sample rate (default: the model's)")
    p.add_argument("--speaker-id", type=int, default=0, help="speaker id for multi-speaker models")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings) -> int:
    from persona.cli.bar import ProgressBar
    from persona.library import resolve_model_ref
    from persona.rvc.convert import convert_file

    options = conversion_options(args, resample_sr=args.resample_sr, speaker_id=args.speaker_id).validate()
    model = resolve_model_ref(settings, args.model)
    with ProgressBar("convert", enabled=False if args.quiet else None) as bar:
        out = convert_file(
            settings, model, args.input, args.output, options, bar,
            index=args.index, embedder_folder=embedder_folder(args),
        )  # fmt: skip
    print(out)
    return 0
