"""`persona train`: train a voice model from up to five recordings, with a progress bar.

Ctrl-C once stops the training cleanly (the current step finishes, a checkpoint is saved and the
model trained so far is added to the library; ``--resume`` continues it); twice aborts.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``persona train`` to the top-level parser (flags, ranges, defaults, choices:
    ``TRAIN_PARAMS``, through ``persona.cli.spec_args``)."""
    from persona.cli.spec_args import add_spec_flag, spec_help
    from persona.training.request import TRAIN_PARAMS

    p = sub.add_parser(
        "train",
        help="train a voice model from your recordings",
        description="Train an RVC v2 voice model from 1-5 recordings of one voice (wav/mp3/...).",
    )
    p.add_argument("name", help="model name (letters of any script, digits, spaces, - _ . ...)")
    p.add_argument("files", nargs="*", metavar="FILE", help="1-5 recordings (not needed with --resume)")
    epochs = TRAIN_PARAMS["epochs"]
    add_spec_flag(
        p,
        "epochs",
        epochs,
        "epochs to train",
        default=None,  # required, unless --resume (then: the saved target)
        help=spec_help(epochs, "epochs to train").replace(
            f"(default {epochs.default})", "(with --resume: default the saved target)"
        ),
    )
    for name, what, strict in (
        ("batch_size", "examples per step", True),
        ("sample_rate", "model rate", True),
        ("f0_method", "pitch extraction", False),
        ("save_every", "save a checkpoint every K epochs, and at the end", True),
        (
            "f0_unvoiced",
            "unvoiced f0 frames in training: zero (classic RVC/Applio; the model sounds the same "
            "there) or interpolate (RVC 2026); recorded in the model",
            False,
        ),
        ("export", "export the save that sounds most like you (best) or the last one", True),
    ):
        add_spec_flag(p, name, TRAIN_PARAMS[name], what, strict=strict, list_choices=name != "f0_unvoiced")
    p.add_argument("--resume", action="store_true", help="continue a stopped training of NAME")
    p.add_argument(
        "--from-scratch",
        action="store_true",
        help="allow training without the pretrained base when it is missing (sounds far worse)",
    )
    p.add_argument("--model-size", default="full", choices=("full", "tiny"), help=argparse.SUPPRESS)
    p.add_argument("--no-quality", action="store_true", help="skip the speaker-similarity report")
    p.add_argument(
        "--no-previews", action="store_true", help="no preview (conversion + metrics) at each save"
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings) -> int:
    from persona.cli.bar import ProgressBar
    from persona.errors import PersonaError
    from persona.library.trained import train_into_library
    from persona.progress import CancelToken
    from persona.training import TrainRequest
    from persona.training.request import TRAIN_PARAMS
    from persona.training.trainer import saved_target_epochs

    epochs = args.epochs
    if epochs is None:
        epochs = saved_target_epochs(settings, args.name) if args.resume else None
        if epochs is None:
            spec = TRAIN_PARAMS["epochs"]
            raise PersonaError(
                "bad_epochs", f"give the number of epochs with --epochs N ({spec.min:g}..{spec.max:g})"
            )
    flags = {name: getattr(args, name) for name in TRAIN_PARAMS}  # the API's parameters, same names
    request = TrainRequest(
        name=args.name,
        files=list(args.files),
        **{**flags, "epochs": epochs},
        resume=args.resume,
        model_size=args.model_size,
        allow_scratch=args.from_scratch,
        quality_report=not args.no_quality,
        previews=not args.no_previews,
    )
    token = CancelToken()

    def stop(signum, frame):  # first Ctrl-C: stop cleanly; second: abort
        token.cancel()
        print("\npersona: stopping after this step (Ctrl-C again to abort)...", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, stop)
    try:
        with ProgressBar(f"train {args.name}", enabled=False if args.quiet else None) as bar:
            result = train_into_library(settings, request, bar, token)
    finally:
        signal.signal(signal.SIGINT, previous)
    for w in result.warnings:
        print(f"persona: {w}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str))
        return 0
    state = "stopped" if result.stopped else "trained"
    print(f"{result.model_name}: {state}, {result.epochs_done}/{result.epochs} epochs")
    print(f"model: {result.model_path}")
    if result.index_path:
        print(f"index: {result.index_path}")
    if result.voice_profile:
        vp = result.voice_profile
        print(f"voice: median {vp['median_hz']:.0f} Hz, range {vp['p5_hz']:.0f}-{vp['p95_hz']:.0f} Hz")
    choice = (result.saves or {}).get("choice")
    if choice:
        print(f"exported epoch {choice['epoch']}: {choice['message']}")
    previews = (result.saves or {}).get("previews") or {}
    if previews.get("reason"):
        print(f"persona: {previews['reason']}", file=sys.stderr)
    sim = result.quality.get("speaker_similarity")
    if sim is not None:
        ref = result.quality.get("reference_similarity")
        extra = f" (your own held-out take: {ref:.2f})" if ref is not None else ""
        print(f"speaker similarity: {sim:.2f}{extra}")
    return 0
