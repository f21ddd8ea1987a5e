"""Optional dependencies, imported in this one place on first use: a feature used without its
package fails with one line saying what to install, never with an ImportError traceback."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import VidstyleError


def require(module: str, message: str, error: type[VidstyleError] = VidstyleError) -> ModuleType:
    """``module`` imported, or ``error(message)`` when it is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise error(message) from None


def installed(module: str) -> bool:
    """Whether ``module`` imports (for choosing a default, not for failing)."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True
