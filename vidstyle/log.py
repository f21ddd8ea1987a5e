"""Logging for the CLI: one-line messages on stderr that do not tear the progress bar."""

from __future__ import annotations

import logging
import re
import sys

log = logging.getLogger("vidstyle")

_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<cred>[^/@\s]+)@")


def redact(text: str) -> str:
    """Hide ``user:password@`` in any URL inside ``text``: ``rtsp://***@host/path``."""
    return _CREDENTIALS.sub(r"\g<scheme>***@", str(text))


class _TqdmHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = redact(self.format(record))
            try:
                from tqdm import tqdm

                tqdm.write(msg, file=sys.stderr)
            except ImportError:  # pragma: no cover - tqdm is a dependency
                print(msg, file=sys.stderr)
        except Exception:  # noqa: BLE001  # pragma: no cover - logging must never raise
            self.handleError(record)


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prefix = {logging.WARNING: "warning: ", logging.ERROR: "error: "}.get(record.levelno, "")
        return f"vidstyle: {prefix}{record.getMessage()}"


def setup_logging(verbosity: int = 0) -> None:
    """verbosity: -1 quiet (warnings only), 0 normal (info), 1+ debug."""
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    handler = _TqdmHandler()
    handler.setFormatter(_Formatter())
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


PROGRESS_MODES = ("auto", "on", "off")


def progress_enabled(mode: str) -> bool:
    """Whether to draw a progress bar: ``"on"``, ``"off"``, or ``"auto"`` (when stderr is a terminal).

    The one rule behind every command's ``run.progress`` setting.
    """
    return mode == "on" or (mode == "auto" and sys.stderr.isatty())
