"""`vidstyle batch`: many files and long videos, split into keyframe-aligned chunks, on Ray.

plan (inputs -> chunks) -> worker (Ray actor: one chunk through the pipeline) -> stitch (remux
the chunks, add the audio) -> run (the driver). Ray is imported only when a batch runs.

The package is also the Python API: ``vidstyle.batch(inputs, out_dir, **overrides)`` calls
:func:`vidstyle.batch.run.batch` (the module is callable, since a package and a function cannot
share the name ``vidstyle.batch``).
"""

from __future__ import annotations

import sys
import types


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        from .run import batch

        return batch(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
