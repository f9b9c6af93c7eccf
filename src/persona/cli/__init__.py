"""``persona`` command line: one module per command group, each with ``register(subparsers)``.

Exit codes: 0 success, 2 bad input (a PersonaError, one line on stderr), 1 anything else.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from persona import __version__
from persona.disk import as_disk_full
from persona.errors import PersonaError

# Each module registers its subcommands and sets ``func`` on its parser.
COMMAND_MODULES = ("assets", "convert", "cover", "train", "evaluate", "detect", "library", "serve", "users")


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad flags already; keep its message to one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"persona: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="persona", description="AI song covers in your own voice.")
    parser.add_argument("--version", action="version", version=f"persona {__version__}")
    parser.add_argument("--home", help="data folder (default $PERSONA_HOME or ~/.persona)")
    parser.add_argument("--assets", help="pretrained weights folder (default $PERSONA_ASSETS)")
    parser.add_argument("--device", help="cpu, cuda or auto (default $PERSONA_DEVICE or auto)")
    parser.add_argument(
        "--user",
        metavar="NAME",
        help="with accounts: use NAME's models, covers and trainings (default: the local library)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"persona.cli.{name}")
        module.register(sub)
    return parser


def settings_from_args(args: argparse.Namespace):  # -> Settings (import kept light)
    from persona.settings import Settings

    settings = Settings.from_env(home=args.home, assets_dir=args.assets, device=args.device)
    if getattr(args, "user", None):  # a person's own folders and catalogue (persona.catalogue)
        from persona.accounts.store import Accounts

        settings = settings.replace(owner=str(Accounts.of(settings).by_name(args.user)["id"]))
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args, settings_from_args(args)) or 0)
    except PersonaError as exc:
        print(f"persona: {exc.message} [{exc.code}]", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk is the person's to fix: one line, exit 2
        full = as_disk_full(exc)
        if full is None:
            raise
        print(f"persona: {full.message} [{full.code}]", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("persona: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
