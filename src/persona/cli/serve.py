"""`persona serve` (web app + API + Socket.IO + embedded worker) and `persona worker` (a worker alone).

The composition root of the job system: the worker's handler registry (kind -> handler) is chosen
here and nowhere else. Production runs the real engines (``persona.jobs.handlers``); the hidden
``--handlers NAME`` (``--fixture-jobs`` = ``fixture``, ``--tiny-models`` = ``tiny``) picks a test
registry from ``persona.testing.jobs.HANDLER_SETS``; ``serve`` hands the name to its embedded worker.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the top-level parser."""
    p = sub.add_parser("serve", help="run the web app, API and Socket.IO, with the embedded worker")
    p.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 5000)")
    p.add_argument("--token", default=None, help="require this access token (default $PERSONA_TOKEN)")
    p.add_argument("--threads", type=int, default=64, help="server threads (each WebSocket holds one)")
    p.add_argument(
        "--workers", type=int, default=None, help="job worker processes (default cover concurrency + 1)"
    )
    p.add_argument("--cover-concurrency", type=int, default=None, help="covers at once per device")
    p.add_argument("--no-worker", action="store_true", help="do not start the embedded worker (scale-out)")
    p.add_argument(
        "--download-assets",
        action="store_true",
        help="first download the pretrained weights that jobs need and that are missing",
    )
    _handler_flags(p)
    p.set_defaults(func=_serve)

    w = sub.add_parser("worker", help="run a job worker alone (for scale-out with a shared queue)")
    w.add_argument(
        "--workers", type=int, default=None, help="worker processes (default cover concurrency + 1)"
    )
    w.add_argument("--cover-concurrency", type=int, default=None, help="covers at once per device")
    _handler_flags(w)
    w.add_argument("--settings-file", help=argparse.SUPPRESS)  # the exact Settings of `persona serve`
    w.set_defaults(func=_worker)


def _handler_flags(p: argparse.ArgumentParser) -> None:
    """Test registries (hidden): ``--handlers NAME`` and its two spellings the tests use."""
    p.add_argument("--handlers", default=None, help=argparse.SUPPRESS)
    p.add_argument(
        "--fixture-jobs", dest="handlers", action="store_const", const="fixture", help=argparse.SUPPRESS
    )
    p.add_argument(
        "--tiny-models", dest="handlers", action="store_const", const="tiny", help=argparse.SUPPRESS
    )


def resolve_handlers(name: str | None) -> dict:
    """The worker's handler registry: the real engines, or the named test registry."""
    if name is None:
        from persona.jobs.handlers import default_handlers

        return default_handlers()
    return _handler_set(name).make()


def _handler_set(name: str):
    from persona.errors import PersonaError
    from persona.testing.jobs import HANDLER_SETS

    if name not in HANDLER_SETS:
        raise PersonaError("param_invalid", f"--handlers must be one of {', '.join(HANDLER_SETS)}")
    return HANDLER_SETS[name]


def _for_handlers(settings, name: str | None):
    """Settings as the chosen handlers need them (``persona.testing.jobs.settings_for``)."""
    if name is None:
        return settings
    from persona.testing.jobs import settings_for

    _handler_set(name)  # an unknown name: one line, exit 2
    return settings_for(settings, name)


def _with(settings, args):
    changes = {}
    for key in ("host", "port", "token", "cover_concurrency"):
        value = getattr(args, key, None)
        if value is not None:
            changes[key] = value
    return settings.replace(**changes) if changes else settings


def _size(n: int | None) -> str:
    return "?" if n is None else f"{n / 1e6:.0f} MB"


def first_start_assets(settings, *, download: bool, ask: bool, out=None, read=input) -> None:
    """Say which weights jobs need and lack, with the command and the page's button; fetch them
    when ``download`` (``--download-assets``) or when the user says yes on a terminal."""
    import sys

    from persona.assets import AssetManager
    from persona.jobs.needs import missing_for_defaults

    out = out or sys.stderr
    manager = AssetManager(settings)
    lacking = missing_for_defaults(settings, manager)
    names = list(dict.fromkeys(n for kind in lacking.values() for n in kind))
    if not names:
        return
    sizes = [manager.asset(n).size for n in names]
    total = None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)
    print(f"persona: pretrained weights are missing from {manager.root}:", file=out)
    for name, size in zip(names, sizes, strict=True):
        print(f"  {name}  ({_size(size)})", file=out)
    url = f"http://{settings.host}:{settings.port}/"
    print(
        f"  {_size(total)} in all. Get them from the page ({url}), with `persona serve --download-assets`,\n"
        "  or on a machine without internet: `persona assets download` elsewhere, then "
        "`persona assets import DIR`.",
        file=out,
    )
    if not download and ask:
        try:
            download = read("Download them now? [y/N] ").strip().lower() in ("y", "yes", "예", "네")
        except EOFError:
            download = False
    if download:
        from persona.cli.bar import ProgressBar

        with ProgressBar("assets") as bar:
            manager.download(names, progress=bar)


def _serve(args: argparse.Namespace, settings) -> int:
    import sys

    from persona.jobs.startup import check_backends, check_provenance
    from persona.server.proxies import TrustedProxies
    from persona.server.run import serve

    settings = _for_handlers(_with(settings, args), args.handlers)
    TrustedProxies(settings.trusted_proxies)  # a bad entry: one line, exit 2, nothing started
    check_backends(settings)  # a bad database or Redis URL: one line, exit 2, nothing started
    check_provenance(settings)  # likewise a broken signing key
    if settings.jobs_need_assets:
        first_start_assets(
            settings, download=args.download_assets, ask=sys.stdin.isatty() and sys.stderr.isatty()
        )
    serve(
        settings,
        embedded_worker=not args.no_worker,
        workers=args.workers,
        threads=args.threads,
        handlers=args.handlers,
    )
    return 0


def _worker(args: argparse.Namespace, settings) -> int:
    from persona.jobs.worker import run_worker

    if args.settings_file:
        from pathlib import Path

        from persona.server.run import settings_from_json

        settings = settings_from_json(Path(args.settings_file).read_text("utf-8"))
    from persona.jobs.startup import check_backends, check_provenance

    settings = _with(settings, args)
    check_backends(settings)
    check_provenance(settings)
    run_worker(settings, workers=args.workers, handlers=resolve_handlers(args.handlers))
    return 0
