"""Network families: one module per family in this package registers it on import.

``family(name)`` is the family a model file names (``ModelMeta.family``; ``transformer_net`` for
files that name none); see :mod:`.registry` for what a family provides.
"""

from __future__ import annotations

import importlib
import pkgutil

from .registry import (
    DEFAULT_FAMILY,
    HALF_PRECISIONS,
    NetworkFamily,
    family,
    family_names,
    register,
    unregister,
)

__all__ = [
    "DEFAULT_FAMILY",
    "HALF_PRECISIONS",
    "NetworkFamily",
    "family",
    "family_names",
    "register",
    "unregister",
]

for _module in pkgutil.iter_modules(__path__):  # adding a family is adding its module here
    if _module.name != "registry":
        importlib.import_module(f"{__name__}.{_module.name}")
