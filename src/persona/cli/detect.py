"""`persona detect FILE... [--json]`: does a file carry Persona's watermark?

Prints one line per file (``marked`` / ``not marked`` and the detection score; the mark is found
at a score of ``persona.provenance.THRESHOLD`` or more), or with ``--json`` a list of
``{file, marked, score}``. A file that is not audio is bad input: one line, exit 2. The signed
content credentials of a file, where it has them, are shown with ``--credentials``.
"""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``persona detect`` to the top-level parser."""
    p = sub.add_parser("detect", help="check whether audio files carry Persona's AI watermark")
    p.add_argument("files", nargs="+", metavar="FILE", help="audio files to check")
    p.add_argument("--json", action="store_true", help="print a JSON list of {file, marked, score}")
    p.add_argument(
        "--credentials", action="store_true", help="also show each file's C2PA content credentials"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings) -> int:
    from persona import provenance

    answers = []
    for name in args.files:
        answer = provenance.detect_file(name, name=name, max_seconds=settings.max_input_seconds)
        if args.credentials:
            manifest = provenance.read_credentials(name)
            answer["credentials"] = None if manifest is None else provenance.summarize_credentials(manifest)
        answers.append(answer)
        if not args.json:
            verdict = "marked (made with Persona)" if answer["marked"] else "not marked"
            print(f"{name}: {verdict}, score {answer['score']:.1f} (threshold {provenance.THRESHOLD:g})")
            if args.credentials:
                print(f"  content credentials: {json.dumps(answer['credentials'], ensure_ascii=False)}")
    if args.json:
        print(json.dumps(answers, ensure_ascii=False))
    return 0
