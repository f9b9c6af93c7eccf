"""`persona convert`: voice conversion of a vocal track, with a progress bar on a terminal."""

from __future__ import annotations

import argparse

from persona.rvc.options import F0_UNVOICED_CHOICES


def add_f0_unvoiced_argument(p: argparse.ArgumentParser) -> None:
    """``--f0-unvoiced`` for convert and cover (ConversionOptions refuses other values: exit 2)."""
    p.add_argument(
        "--f0-unvoiced",
        default="auto",
        help=f"{'|'.join(F0_UNVOICED_CHOICES)}. Unvoiced f0 frames: auto (the model's own convention, default), zero (classic RVC/Applio: "
        "0 Hz kept, protect acts on them) or interpolate (RVC 2026)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``persona convert`` to the top-level parser."""
    p = sub.add_parser(
        "convert",
        help="convert a vocal track into a voice model's voice",
        description="Convert a vocal track (wav/mp3/flac/ogg/m4a) into the voice of an RVC model.",
    )
    p.add_argument("--model", required=True, help="model name in the library, or a path to a .pth")
    p.add_argument("--index", help="path to the model's .index (default: the library's, if any)")
    p.add_argument("--input", required=True, help="input vocal (any audio file)")
    p.add_argument("--output", required=True, help="output file (.wav, .mp3 or .flac)")
    p.add_argument("--pitch", type=float, default=0.0, help="pitch shift in semitones, -24..24 (default 0)")
    p.add_argument("--f0-method", default="rmvpe", help="rmvpe (default), crepe, fcpe, harvest or pm")
    p.add_argument("--index-rate", type=float, default=0.75, help="index influence 0..1 (default 0.75)")
    p.add_argument("--filter-radius", type=int, default=3, help="median filter radius for f0 (default 3)")
    p.add_argument(
        "--rms-mix-rate", type=float, default=0.25, help="0 = input loudness, 1 = model's (default 0.25)"
    )
    p.add_argument(
        "--protect", type=float, default=0.33, help="protect unvoiced consonants 0..0.5 (default 0.33)"
    )
    p.add_argument("--resample-sr", type=int, default=0, help="output sample rate (default: the model's)")
    p.add_argument("--speaker-id", type=int, default=0, help="speaker id for multi-speaker models")
    add_f0_unvoiced_argument(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings) -> int:
    from persona.cli.bar import ProgressBar
    from persona.library import resolve_model_ref
    from persona.rvc.convert import convert_file
    from persona.rvc.options import ConversionOptions

    options = ConversionOptions(
        pitch=args.pitch,
        f0_method=args.f0_method,
        index_rate=args.index_rate,
        filter_radius=args.filter_radius,
        rms_mix_rate=args.rms_mix_rate,
        protect=args.protect,
        resample_sr=args.resample_sr,
        speaker_id=args.speaker_id,
        f0_unvoiced=args.f0_unvoiced,
    ).validate()
    model = resolve_model_ref(settings, args.model)
    with ProgressBar("convert", enabled=False if args.quiet else None) as bar:
        out = convert_file(settings, model, args.input, args.output, options, bar, index=args.index)
    print(out)
    return 0
