"""vidstyle: real-time, temporally stable, face-preserving neural style transfer for video.

The public API::

    vidstyle.stylize_file("in.mp4", "out.mp4", model__style="wave")
    vidstyle.Pipeline(cfg).run("in.mp4", "out.mp4")     # reuses the loaded model across runs
    vidstyle.load_config("pipeline.yaml")               # -> PipelineConfig
    vidstyle.batch(["clips/", "film.mkv"], "out/")      # many files / long videos on Ray
    vidstyle.export_model("wave", "wave.onnx")          # ONNX / TensorRT, checked against torch

The names are imported on first use: the API pulls in torch, and ``import vidstyle`` (and the
CLI's ``--help``) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from .config import PipelineConfig, load_config
    from .deploy.api import ExportResult, export_model
    from .pipeline.api import Pipeline, RunReport, stylize_file

__all__ = [
    "__version__",
    "Pipeline",
    "RunReport",
    "stylize_file",
    "batch",
    "export_model",
    "ExportResult",
    "load_config",
    "PipelineConfig",
]

_LAZY = {
    "Pipeline": "pipeline.api",
    "RunReport": "pipeline.api",
    "stylize_file": "pipeline.api",
    "export_model": "deploy.api",
    "ExportResult": "deploy.api",
    "load_config": "config",
    "PipelineConfig": "config",
}


def __getattr__(name: str) -> Any:
    if name == "batch":  # the package itself is callable: vidstyle.batch(inputs, out_dir, ...)
        import importlib

        return importlib.import_module(".batch", __name__)
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'vidstyle' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
