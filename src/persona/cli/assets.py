"""`persona assets status | download [NAMES] | import DIR`: the pretrained weights on this machine."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the top-level parser."""
    parser = sub.add_parser("assets", help="pretrained weights: status, download, import")
    actions = parser.add_subparsers(dest="assets_command", metavar="ACTION", parser_class=type(parser))

    status = actions.add_parser("status", help="what is present, missing or corrupt")
    status.add_argument("--quick", action="store_true", help="check presence and size only (no checksums)")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=_status)

    download = actions.add_parser("download", help="fetch weights with checksums (resumes)")
    download.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="asset names or patterns (e.g. rmvpe.pt 'pretrained_v2/*'); default: the essential set",
    )
    download.add_argument("--all", action="store_true", help="every asset in the manifest")
    download.set_defaults(func=_download)

    imp = actions.add_parser("import", help="copy weights from a folder (ours, RVC's assets/ or Applio's)")
    imp.add_argument("dir", metavar="DIR")
    imp.set_defaults(func=_import)

    parser.set_defaults(func=lambda args, settings: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _manager(settings):
    from persona.assets import AssetManager

    return AssetManager(settings)


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    return f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


def _status(args: argparse.Namespace, settings) -> int:
    import json

    manager = _manager(settings)
    report = manager.status(verify=not args.quick)
    if args.json:
        print(json.dumps({n: s.to_dict() for n, s in report.items()}, indent=2))
        return 0
    print(f"assets folder: {manager.root}")
    width = max(len(n) for n in report)
    for name, st in report.items():
        mark = "*" if st.default else " "
        line = f"{mark} {name:<{width}}  {st.state:<10}  {_size(st.size):>7}"
        if st.detail and st.state in ("corrupt", "unverified"):
            line += f"  {st.detail}"
        print(line)
    missing = [n for n, s in report.items() if s.default and not s.present]
    if missing:
        print(f"(* = essential) fetch with: persona assets download  ({len(missing)} essential missing)")
    return 0


def _download(args: argparse.Namespace, settings) -> int:
    from persona.cli.bar import ProgressBar

    manager = _manager(settings)
    names = ["all"] if args.all else (args.names or None)
    selected = manager.select(names)  # unknown names fail here, before any network
    with ProgressBar("assets") as bar:
        report = manager.download([a.name for a in selected], progress=bar)
    for name, st in report.items():
        print(f"{name}: {st.state}")
    return 0 if all(s.state == "present" for s in report.values()) else 1


def _import(args: argparse.Namespace, settings) -> int:
    from persona.cli.bar import ProgressBar

    manager = _manager(settings)
    with ProgressBar("import") as bar:
        results = manager.import_dir(args.dir, progress=bar)
    for name, outcome in results.items():
        print(f"{name}: {outcome}")
    bad = [n for n, o in results.items() if o.startswith("corrupt")]
    if bad:
        print(
            f"persona: {len(bad)} corrupt file(s) not imported: {', '.join(bad)} [asset_corrupt]",
            file=sys.stderr,
        )
        return 2
    return 0
