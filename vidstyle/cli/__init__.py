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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(-1 if args.quiet else args.verbose)
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
