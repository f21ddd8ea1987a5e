"""vidstyle: real-time, temporally stable, face-preserving neural style transfer for video."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "Pipeline", "stylize_file", "load_config", "PipelineConfig"]


def __getattr__(name: str):
    # The public API imports torch; keep `import vidstyle` (and the CLI's --help) light.
    if name in ("Pipeline", "stylize_file"):
        from .pipeline import api
        return getattr(api, name)
    if name in ("load_config", "PipelineConfig"):
        from . import config
        return getattr(config, name)
    raise AttributeError(f"module 'vidstyle' has no attribute {name!r}")
