"""Build the configured Stylizer: resolve the style, pick the backend, place it on the device.

Backends: ``torch`` (eager, optional torch.compile), ``onnx`` (ONNX Runtime: CPU, CUDA or its
TensorRT provider) and ``tensorrt`` (an engine). Our .safetensors models are exported to ONNX or
built into engines on first use and cached (keyed by the model file's hash and the settings).
``auto`` picks the fastest that is available: a TensorRT engine on CUDA when TensorRT is
installed, else torch fp16 on CUDA; ONNX Runtime on the CPU.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch

from ..config import PipelineConfig
from ..errors import ModelError
from ..log import log
from ..sysinfo import available_memory, cpu_count
from ..models.catalog import StyleEntry, parse_style_mix, resolve_style
from ..models.store import load_model
from .base import Stylizer
from .torch_backend import TorchStylizer, resolve_device, resolve_precision

FOREIGN_SUFFIXES = {".onnx": "onnx", ".engine": "tensorrt", ".trt": "tensorrt", ".plan": "tensorrt"}


def stylize_workers(cfg: PipelineConfig, device: torch.device) -> int:
    if cfg.model.workers:
        return cfg.model.workers
    return cpu_count() if device.type == "cpu" else 1


def stylize_batch(cfg: PipelineConfig, device: torch.device) -> int:
    return cfg.model.batch or (8 if device.type == "cuda" else 1)


def frames_in_parallel(cfg: PipelineConfig, device: torch.device) -> int:
    """Frames the stylize stage works on at once: workers x batch."""
    return stylize_workers(cfg, device) * stylize_batch(cfg, device)


def style_weights(entry: StyleEntry, mix: str) -> list[float]:
    """Per-style weights for ``entry``'s model: one-hot on its style, or the parsed ``mix``."""
    if mix:
        return parse_style_mix(mix, entry.meta.style_names, entry.meta.name)
    return [1.0 if i == entry.style_index else 0.0 for i in range(len(entry.meta.styles))]


def memory_limited_side(stylizer: Stylizer, h: int, w: int, parallel: int) -> int:
    """Longest side a frame may be stylized at so ``parallel`` calls fit in memory (0: no limit).

    Peak activation memory of TransformerNet is about 30 bytes x base channels per pixel in fp32
    (measured: 960 B/px full, 475 B/px small, CPU eager); half that in fp16.
    """
    channels = getattr(stylizer, "channels", 32)
    per_px = 30.0 * channels * (0.5 if getattr(stylizer, "precision", "fp32") == "fp16" else 1.0)
    share = 0.7 if stylizer.device.type == "cuda" else 0.6
    max_px = available_memory(stylizer.device) * share / max(parallel, 1) / per_px
    if h * w <= max_px:
        return 0
    return max(64, int(max(h, w) * (max_px / (h * w)) ** 0.5) // 4 * 4)


def cache_dir() -> Path:
    if os.environ.get("VIDSTYLE_HOME"):
        return Path(os.environ["VIDSTYLE_HOME"]) / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vidstyle"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def cached_onnx(entry: StyleEntry, fp16: bool) -> Path:
    """Our model exported to ONNX (dynamic shapes), reusing an earlier export of the same file."""
    from ..export.onnx import export_onnx

    out = cache_dir() / "onnx" / f"{entry.meta.name}-{_digest(entry.model_path)}-{'fp16' if fp16 else 'fp32'}.onnx"
    if not out.is_file():
        log.info(f"exporting {entry.name} to ONNX once (cached at {out})")
        net, meta = load_model(entry.model_path)
        export_onnx(net, meta, out, fp16=fp16)
    return out


def cached_engine(entry: StyleEntry, fp16: bool) -> Path:
    """Our model built into a TensorRT engine for this GPU, reusing an earlier build."""
    from ..export.tensorrt import build_engine, device_identity

    ident = device_identity()
    tag = hashlib.sha256(repr(sorted(ident.items())).encode()).hexdigest()[:8]
    out = cache_dir() / "engines" / f"{entry.meta.name}-{_digest(entry.model_path)}-{tag}-{'fp16' if fp16 else 'fp32'}.engine"
    if not out.is_file():
        log.info(f"building a TensorRT engine for {entry.name} once (cached at {out}); this takes minutes")
        build_engine(cached_onnx(entry, False), out, fp16=fp16)
    return out


def _tensorrt_available() -> bool:
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        return False
    return torch.cuda.is_available()


def choose_backend(requested: str, device: torch.device) -> str:
    if requested != "auto":
        return requested
    if device.type == "cuda":
        return "tensorrt" if _tensorrt_available() else "torch"
    return "onnx"


def style_label(spec: str) -> str:
    """Check that ``spec`` names a usable model (before any decoding) and return a short name."""
    path = Path(spec).expanduser()
    if path.suffix.lower() in FOREIGN_SUFFIXES:
        if not path.is_file():
            raise ModelError(f"model file not found: {spec}")
        return path.stem
    return resolve_style(spec).name


def build_stylizer(cfg: PipelineConfig) -> Stylizer:
    """The configured style model on the configured device, backend and precision."""
    m = cfg.model
    device = resolve_device(m.device)
    workers = stylize_workers(cfg, device)
    threads = m.threads or max(1, cpu_count() // workers)
    if device.type == "cpu":
        # Frame-level parallelism beats intra-op threads on few cores: OpenMP teams of several
        # Python threads oversubscribe the cores and every small op pays for the sync.
        torch.set_num_threads(threads)
    precision = resolve_precision(m.precision, device)
    suffix = Path(m.style).suffix.lower()
    if suffix in FOREIGN_SUFFIXES:
        return _foreign(cfg, Path(m.style).expanduser(), FOREIGN_SUFFIXES[suffix], device, threads)
    entry = resolve_style(m.style)
    weights = style_weights(entry, m.style_mix)
    if entry.meta.placeholder:
        log.warning(f"style {entry.name!r} is a placeholder model, not a trained style")
    backend = choose_backend(m.backend, device)
    try:
        stylizer = _ours(cfg, entry, backend, device, precision, weights, threads)
    except OSError as exc:   # the export cache cannot be written (disk full, read-only home)
        if m.backend != "auto":
            raise ModelError(f"cannot prepare the {backend} model in {cache_dir()}: "
                             f"{exc.strerror or exc}") from None
        log.warning(f"cannot write the model cache in {cache_dir()} ({exc.strerror or exc}); using torch")
        stylizer = _ours(cfg, entry, "torch", device, precision, weights, threads)
    stylizer.channels = entry.meta.arch_obj().channels    # for the memory estimate
    stylizer.precision = precision
    return stylizer


def _ours(cfg: PipelineConfig, entry: StyleEntry, backend: str, device: torch.device, precision: str,
          weights: list[float], threads: int) -> Stylizer:
    m = cfg.model
    if backend == "onnx":
        from .onnx_backend import OnnxStylizer

        fp16 = precision == "fp16"
        return OnnxStylizer(cached_onnx(entry, fp16), device, m.onnx_provider, style_w=weights, threads=threads)
    if backend == "tensorrt":
        from .tensorrt_backend import TensorRTStylizer

        return TensorRTStylizer(cached_engine(entry, precision != "fp32"), device, weights)
    net, meta = load_model(entry.model_path)
    channels_last = m.channels_last == "on" or (m.channels_last == "auto" and device.type == "cuda")
    stylizer = TorchStylizer(net, meta, device, precision, channels_last, weights)
    if m.compile:
        stylizer.net = torch.compile(stylizer.net, dynamic=True)
        stylizer.name += "-compiled"
    return stylizer


def _foreign(cfg: PipelineConfig, path: Path, kind: str, device: torch.device, threads: int) -> Stylizer:
    """An .onnx file (ours or anyone's) or a TensorRT engine given by path."""
    m = cfg.model
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    if kind == "tensorrt":
        from .tensorrt_backend import TensorRTStylizer

        return TensorRTStylizer(path, device)
    from .onnx_backend import OnnxStylizer

    input_range = None if m.input_range == "auto" else m.input_range
    stylizer = OnnxStylizer(path, device, m.onnx_provider, input_range=input_range,
                            bgr=m.bgr if m.bgr else None, threads=threads)
    if m.style_mix and stylizer.contract.style_names:
        stylizer.style_w = np.asarray(parse_style_mix(m.style_mix, list(stylizer.contract.style_names),
                                                      path.stem), np.float32)
    return stylizer

