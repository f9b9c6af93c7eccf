"""`persona evaluate`: the quality report of a voice model on vocals you give it.

Each ``--input`` vocal is converted through the model (``--pitch``, ``--f0-method``) and scored on
Seed-VC's protocol (``persona.quality``): speaker similarity of the conversion to the model's
voice (the embedding a trained model keeps, or ``--voice`` recordings), F0 correlation and RMSE in
cents of the conversion against the input (by an estimator other than ``--f0-method``), DNSMOS.
A metric that cannot be computed is printed as unavailable with its reason. CER (intelligibility)
is not computed: it needs a speech recogniser, which Persona does not ship.
"""

from __future__ import annotations

import argparse
import json

from persona.cli.conversion_args import WHAT, add_model_args
from persona.cli.spec_args import add_spec_flag
from persona.rvc.options import CONVERSION_PARAMS

# Seed-VC EVAL.md, M4Singer singing, RVCv2 (48k, f0) baseline, averaged over 4 voices x 4 singer types.
ANCHORS = {
    "source": "Seed-VC EVAL.md, zero-shot singing voice conversion on M4Singer: RVCv2 baseline",
    "speaker_similarity": 0.7264,
    "f0_corr": 0.9404,
    "f0_rmse": 30.43,
    "dnsmos_sig": 3.41,
    "dnsmos_bak": 4.05,
    "dnsmos_ovrl": 3.12,
}
LABELS = (
    ("speaker_similarity", "speaker similarity", "{:.3f}"),
    ("f0_corr", "F0 correlation", "{:.3f}"),
    ("f0_rmse_cents", "F0 RMSE (cents)", "{:.1f}"),
    ("dnsmos_ovrl", "DNSMOS OVRL", "{:.2f}"),
    ("dnsmos_sig", "DNSMOS SIG", "{:.2f}"),
    ("dnsmos_bak", "DNSMOS BAK", "{:.2f}"),
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``persona evaluate`` to the top-level parser."""
    p = sub.add_parser(
        "evaluate",
        help="score a voice model: speaker similarity, F0 fidelity, DNSMOS",
        description="Convert vocals through a model and print its quality metrics (Seed-VC's protocol).",
    )
    add_model_args(p, index=False)
    p.add_argument("--input", required=True, nargs="+", metavar="VOCAL", help="vocals to convert and score")
    p.add_argument(
        "--voice", nargs="*", metavar="FILE", help="recordings of the target voice (default: the model's own)"
    )
    for name in ("pitch", "f0_method"):  # the conversion's own flags, as persona convert has them
        add_spec_flag(p, name, CONVERSION_PARAMS[name], WHAT[name], strict=False)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def _voice(model, args) -> tuple[object, str]:
    from persona.audio.io import load_audio
    from persona.quality import speaker, voice_from_metadata

    if args.voice:
        recordings = [load_audio(f, sr=16000, mono=True, max_seconds=600)[0] for f in args.voice]
        return speaker.voice_embedding(recordings, 16000), "the --voice recordings"
    voice = voice_from_metadata(getattr(model, "metadata", None))  # a library entry's; a .pth has none
    return voice, ("its training recordings" if voice is not None else "none (give --voice FILE...)")


def evaluate_model(settings, args) -> dict:
    from persona.audio.io import ensure_not_silent, load_audio
    from persona.library import resolve_model_ref
    from persona.quality import evaluate
    from persona.rvc.convert import convert_audio
    from persona.rvc.options import ConversionOptions

    options = ConversionOptions(pitch=args.pitch, f0_method=args.f0_method).validate()
    model = resolve_model_ref(settings, args.model)
    voice, voice_from = _voice(model, args)
    rows = []
    for path in args.input:
        audio, sr = load_audio(path, sr=16000, mono=True, max_seconds=settings.max_input_seconds)
        ensure_not_silent(audio, str(path))
        converted, out_sr = convert_audio(settings, model, audio, sr, options)
        scores = evaluate(
            converted, out_sr, audio, sr, voice=voice, conversion_f0=args.f0_method, shift=args.pitch
        )
        if voice is None:
            scores["unavailable"]["speaker_similarity"] = (
                "no recordings of the target voice (--voice FILE...)"
            )
        rows.append({"input": str(path), "seconds": round(len(audio) / sr, 2), "metrics": scores})
    mean = {}
    for key, _, _ in LABELS:
        values = [r["metrics"][key] for r in rows if r["metrics"].get(key) is not None]
        mean[key] = round(sum(values) / len(values), 4) if values else None
    return {
        "model": str(args.model),
        "voice": voice_from,
        "pitch": args.pitch,
        "f0_method": args.f0_method,
        "f0_estimator": rows[0]["metrics"].get("f0_estimator") if rows else None,
        "inputs": rows,
        "mean": mean,
        "anchors": ANCHORS,
    }


def run(args: argparse.Namespace, settings) -> int:
    report = evaluate_model(settings, args)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(f"model: {report['model']}  (target voice: {report['voice']})")
    print(
        f"F0 judged by {report['f0_estimator']}, conversion by {report['f0_method']}, pitch {report['pitch']:+g}"
    )
    for row in report["inputs"]:
        print(f"\n{row['input']} ({row['seconds']} s)")
        m = row["metrics"]
        for key, label, fmt in LABELS:
            value = m.get(key)
            text = (
                fmt.format(value) if value is not None else f"unavailable: {m['unavailable'].get(key, '?')}"
            )
            print(f"  {label:20s} {text}")
    if len(report["inputs"]) > 1:
        print("\nmean")
        for key, label, fmt in LABELS:
            value = report["mean"][key]
            print(f"  {label:20s} {fmt.format(value) if value is not None else 'unavailable'}")
    a = ANCHORS
    print(
        f"\nanchor ({a['source']}): similarity {a['speaker_similarity']}, F0 corr {a['f0_corr']}, "
        f"F0 RMSE {a['f0_rmse']}, DNSMOS {a['dnsmos_ovrl']}"
    )
    return 0
