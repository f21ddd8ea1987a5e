"""The export cache: our .safetensors models exported to ONNX or built into TensorRT engines
once, keyed by the model file's hash and the settings, under ``$VIDSTYLE_HOME/cache`` (or
``$XDG_CACHE_HOME/vidstyle``)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..export.onnx import export_onnx
from ..export.tensorrt import build_engine, device_identity
from ..log import log
from ..models.catalog import StyleEntry
from ..models.store import load_model


def cache_dir() -> Path:
    if os.environ.get("VIDSTYLE_HOME"):
        return Path(os.environ["VIDSTYLE_HOME"]) / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vidstyle"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def onnx_cache_path(entry: StyleEntry, fp16: bool) -> Path:
    """Where our model's ONNX export is cached (keyed by the model file's hash and precision)."""
    return (
        cache_dir()
        / "onnx"
        / f"{entry.meta.name}-{_digest(entry.model_path)}-{'fp16' if fp16 else 'fp32'}.onnx"
    )


def cached_onnx(entry: StyleEntry, fp16: bool) -> Path:
    """Our model exported to ONNX (dynamic shapes), reusing an earlier export of the same file."""
    out = onnx_cache_path(entry, fp16)
    if not out.is_file():
        log.info(f"exporting {entry.name} to ONNX once (cached at {out})")
        net, meta = load_model(entry.model_path)
        export_onnx(net, meta, out, fp16=fp16)
    return out


def int8_cache_path(stem: str, source: Path, tag: str = "") -> Path:
    """Where the int8 quantization of ``source`` is cached (keyed by its hash and the recipe)."""
    from ..export.quantize import QUANT_VERSION

    return cache_dir() / "onnx" / f"{stem}-{_digest(source)}{tag}-int8q{QUANT_VERSION}.onnx"


def cached_engine(entry: StyleEntry, fp16: bool) -> Path:
    """Our model built into a TensorRT engine for this GPU, reusing an earlier build."""
    ident = device_identity()
    tag = hashlib.sha256(repr(sorted(ident.items())).encode()).hexdigest()[:8]
    out = (
        cache_dir()
        / "engines"
        / f"{entry.meta.name}-{_digest(entry.model_path)}-{tag}-{'fp16' if fp16 else 'fp32'}.engine"
    )
    if not out.is_file():
        log.info(f"building a TensorRT engine for {entry.name} once (cached at {out}); this takes minutes")
        build_engine(cached_onnx(entry, False), out, fp16=fp16)
    return out
