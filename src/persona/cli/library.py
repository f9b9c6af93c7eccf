"""`persona import ZIP [--name NAME]`, `persona export NAME OUT.zip`, `persona models [--json]`,
`persona merge A B --weight W --name NEW`."""

from __future__ import annotations

import argparse

from persona.cli.listing import add_json_flag, print_rows


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the top-level parser."""
    p = sub.add_parser("import", help="import an RVC model .zip (.pth + optional .index) into the library")
    p.add_argument("zip", help="the model zip")
    p.add_argument("--name", help="model name (default: from the .pth file name)")
    p.set_defaults(func=_import)
    e = sub.add_parser("export", help="write a library model as a .zip (<name>.pth + its .index)")
    e.add_argument("name")
    e.add_argument("out", help="output .zip path")
    e.set_defaults(func=_export)
    m = sub.add_parser("models", help="list the models in the library")
    add_json_flag(m)
    m.set_defaults(func=_models)
    g = sub.add_parser("merge", help="blend two compatible models into a new one (model fusion)")
    g.add_argument("a", help="first model")
    g.add_argument("b", help="second model")
    g.add_argument("--weight", type=float, default=0.5, help="share of the first model, 0..1 (default 0.5)")
    g.add_argument("--name", required=True, help="name of the new model")
    g.set_defaults(func=_merge)


def _import(args: argparse.Namespace, settings) -> int:
    from persona.library import ModelLibrary

    entry = ModelLibrary(settings).import_zip(args.zip, name=args.name)
    meta = entry.metadata
    print(
        f"imported {entry.name}: {meta['version']} {meta['sample_rate'] // 1000}k f0={'yes' if meta['f0'] else 'no'} "
        f"index={'yes' if entry.index_path else 'no'} ({meta.get('note', '')})"
    )
    return 0


def _export(args: argparse.Namespace, settings) -> int:
    from persona.library import ModelLibrary

    out = ModelLibrary(settings).export_zip(args.name, args.out)
    print(out)
    return 0


def _merge(args: argparse.Namespace, settings) -> int:
    from persona.library import ModelLibrary
    from persona.library.merge import merge_models

    entry = merge_models(ModelLibrary(settings), args.a, args.b, args.weight, args.name)
    print(f"merged {args.a} ({args.weight:g}) and {args.b} ({1 - args.weight:g}) into {entry.name}")
    return 0


def _models(args: argparse.Namespace, settings) -> int:
    from persona.library import ModelLibrary

    return print_rows(
        [e.to_dict() for e in ModelLibrary(settings).list()],
        as_json=args.json,
        line=_model_line,
        empty="no models yet (persona import ZIP, or persona train)",
    )


def _model_line(d: dict) -> str:
    rate = f"{(d['sample_rate'] or 0) // 1000}k"
    return (
        f"{d['name']}\t{d['version']}\t{rate}\tf0={'yes' if d['f0'] else 'no'}\t"
        f"index={'yes' if d['has_index'] else 'no'}\t{d['source']}\t{(d['size_bytes'] or 0) / 1e6:.1f} MB"
    )
