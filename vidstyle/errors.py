"""User-facing errors.

Every failure a user can cause (bad input, bad config, unknown style, unwritable output) is raised
as a :class:`VidstyleError` subclass whose message is one line naming the problem; the CLI prints
it as ``vidstyle: error: <message>`` and exits with ``exit_code``. Anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations


class VidstyleError(Exception):
    """Base of all user-facing errors; ``str(err)`` is the one-line message."""

    exit_code = 1


class ConfigError(VidstyleError):
    """pipeline.yaml or a CLI override names an unknown key or holds a bad value."""

    exit_code = 2


class InputError(VidstyleError):
    """The input is missing, unreadable, or not a video/image we can decode."""


class OutputError(VidstyleError):
    """The output cannot be written (bad path, unsupported container, disk full)."""


class ModelError(VidstyleError):
    """A style model is unknown, corrupt, or unsafe to load."""


class Interrupted(VidstyleError):
    """The run was stopped by SIGINT/SIGTERM/SIGHUP; a partial output may have been kept.

    Exit code 128 + the signal's number, as shells report a process killed by it: 130 (SIGINT),
    143 (SIGTERM), 129 (SIGHUP). Every command follows this convention.
    """

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum
