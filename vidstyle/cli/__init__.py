"""``vidstyle`` command line: one module per subcommand, each with ``register(subparsers)``.

Subcommand modules import torch and friends inside their ``run`` functions so that ``--help`` and
config errors answer instantly.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

from ..errors import VidstyleError
from ..log import log, redact, setup_logging

# subcommand name -> module under vidstyle.cli
COMMANDS = (
    "stylize",
    "optimize",
    "batch",
    "models",
    "config",
    "demo",
    "train",
    "eval",
    "export",
    "bench",
    "stream",
)


def build_parser() -> argparse.ArgumentParser:
    from ..version import __version__

    parser = argparse.ArgumentParser(
        prog="vidstyle", description="Temporally stable, face-preserving neural style transfer for video."
    )
    parser.add_argument("--version", action="version", version=f"vidstyle {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    for command in _subcommands(parser):  # -q/-v after the subcommand too, as git and ffmpeg take them
        # SUPPRESS: an absent flag sets nothing, so a nested parser (eval faces) keeps eval's
        g = command.add_argument_group("logging")
        g.add_argument(
            "-v",
            "--verbose",
            action="count",
            dest="more_verbose",
            default=argparse.SUPPRESS,
            help="more log output",
        )
        g.add_argument(
            "-q",
            "--quiet",
            action="store_true",
            dest="also_quiet",
            default=argparse.SUPPRESS,
            help="warnings and errors only",
        )
    return parser


def _subcommands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every subcommand parser under ``parser`` (``eval faces`` too), depth first."""
    found = []
    for action in parser._actions:  # argparse keeps its subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            for command in dict.fromkeys(action.choices.values()):  # an alias maps to the same parser
                found += [command, *_subcommands(command)]
    return found


def verbosity(args: argparse.Namespace) -> int:
    """-1 quiet, 0 normal, 1+ debug: -q wins wherever it stands, each -v counts wherever it stands."""
    if args.quiet or getattr(args, "also_quiet", False):
        return -1
    return args.verbose + getattr(args, "more_verbose", 0)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(verbosity(args))
    if hasattr(signal, "SIGXFSZ"):
        # over a file-size limit, get EFBIG from write() (reported, temp file removed) rather
        # than being killed mid-write
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        return int(args.func(args) or 0)
    except VidstyleError as exc:
        log.error(redact(str(exc)))
        return exc.exit_code
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130
    except BrokenPipeError:  # e.g. `vidstyle models list | head`
        return 0


def run() -> None:  # console-script entry point
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C before main() installed its handling, or after it
        sys.exit(130)
