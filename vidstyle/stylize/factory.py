"""Build the configured Stylizer: resolve the style, choose the backend, place it on the device.

Backends: ``torch`` (eager, optional torch.compile and CUDA graphs: :mod:`.accel`), ``onnx`` (ONNX
Runtime: CPU, CUDA or its TensorRT provider) and ``tensorrt`` (an engine). Our .safetensors models
go through the export cache (:mod:`.cache`) for ONNX Runtime and TensorRT. ``auto`` picks the
fastest that is available: a TensorRT engine on CUDA when TensorRT is installed, else torch fp16 on
CUDA; ONNX Runtime on the CPU.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ..config import ModelConfig
from ..errors import ConfigError, ModelError
from ..io.source import IMAGE_SUFFIXES
from ..log import log
from ..models.catalog import StyleEntry, resolve_style, resolve_style_mix
from ..models.mix import parse_style_mix
from ..models.store import load_model
from ..optional import installed
from .base import Stylizer
from .cache import cache_dir, cached_engine, cached_onnx, int8_cache_path
from .device import resolve_precision
from .onnx_backend import OnnxStylizer
from .precision import (
    auto_int8_refusal,
    foreign_int8_tag,
    int8_problem,
    int8_tag,
    named,
    onnx_precision,
    tries_int8,
)
from .prepare import PREPARE_ENV, cold_start, wait_while_building
from .tensorrt_backend import TensorRTStylizer
from .torch_backend import TorchStylizer

FOREIGN_SUFFIXES = {".onnx": "onnx", ".engine": "tensorrt", ".trt": "tensorrt", ".plan": "tensorrt"}


def _tensorrt_available() -> bool:
    return installed("tensorrt") and torch.cuda.is_available()


def choose_backend(requested: str, device: torch.device) -> str:
    if requested != "auto":
        return requested
    if device.type == "cuda":
        return "tensorrt" if _tensorrt_available() else "torch"
    return "onnx"


def style_label(spec: str) -> str:
    """Check that ``spec`` names a usable model (before any decoding) and return a short name."""
    path = Path(spec).expanduser()
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise ModelError(
            f"{spec} is an image, not a style model; did you mean `vidstyle optimize "
            f"--style-image {spec}` (stylize one input) or `vidstyle train --style {spec}` "
            f"(make a reusable style)?"
        )
    if path.suffix.lower() in FOREIGN_SUFFIXES:
        if not path.is_file():
            raise ModelError(f"model file not found: {spec}")
        return path.stem
    return resolve_style(spec).name


def build_stylizer(m: ModelConfig, device: torch.device, threads: int) -> Stylizer:
    """The model ``m`` names on ``device``, with ``m``'s backend and precision; ``threads`` is
    the intra-op thread count of ONNX Runtime sessions (see ``pipeline.scheduling``)."""
    precision = resolve_precision(m.precision, device)
    suffix = Path(m.style).suffix.lower()
    if suffix in FOREIGN_SUFFIXES:
        return _foreign(m, Path(m.style).expanduser(), FOREIGN_SUFFIXES[suffix], device, threads)
    entry = resolve_style_mix(m.style, m.style_mix)
    style = entry.style(m.style_mix)
    if entry.meta.placeholder:
        log.warning(f"style {entry.name!r} is a placeholder model, not a trained style")
    backend = choose_backend(m.backend, device)
    if precision == "int8" and (problem := int8_problem(device, backend)):
        raise ConfigError(problem)
    try:
        return _ours(m, entry, backend, device, precision, style, threads)
    except OSError as exc:  # the export cache cannot be written (disk full, read-only home)
        if m.backend != "auto":
            raise ModelError(
                f"cannot prepare the {backend} model in {cache_dir()}: {exc.strerror or exc}"
            ) from None
        log.warning(f"cannot write the model cache in {cache_dir()} ({exc.strerror or exc}); using torch")
        return _ours(m, entry, "torch", device, precision, style, threads)


def _ours(
    m: ModelConfig,
    entry: StyleEntry,
    backend: str,
    device: torch.device,
    precision: str,
    style: list[float] | None,
    threads: int,
) -> Stylizer:
    """``entry``'s model on ``backend``; ONNX and TensorRT read the family's memory figure from the
    export's metadata."""
    if backend == "onnx":

        def make(path: Path, n_threads: int = threads, chosen: str = precision) -> OnnxStylizer:
            return OnnxStylizer(
                path, device, m.onnx_provider, style=style, threads=n_threads, precision=chosen
            )

        if device.type == "cpu" and m.precision in ("auto", "fp32"):  # no waiting for the cache
            cold = _cold_start(m, entry, device, precision, style, threads, make)
            if cold is not None:
                return cold
        if tries_int8(m.precision, device):
            int8_path = int8_cache_path(entry.meta.name, entry.model_path, int8_tag(style))
            wait_while_building(int8_path)  # `--precision int8` meets a background build of it
            chosen, path = onnx_precision(
                m.precision,
                entry.name,
                lambda: cached_onnx(entry, False),
                int8_path,
                make,
                m.precision_gate_db,
                entry.meta,
            )
            return named(make(path, chosen=chosen))
        return make(cached_onnx(entry, precision == "fp16"))
    if backend == "tensorrt":
        return TensorRTStylizer(cached_engine(entry, precision != "fp32"), device, style, precision=precision)
    net, meta = load_model(entry.model_path)
    channels_last = m.channels_last == "on" or (m.channels_last == "auto" and device.type == "cuda")
    stylizer = TorchStylizer(net, meta, device, precision, channels_last, style)
    if m.compile or m.cuda_graphs:
        from .accel import accelerate

        stylizer.net, suffix = accelerate(stylizer.net, device, m.compile, m.compile_mode, m.cuda_graphs)
        stylizer.name += suffix
    return stylizer


def _cold_start(
    m: ModelConfig,
    entry: StyleEntry,
    device: torch.device,
    precision: str,
    style: list[float] | None,
    threads: int,
    make: Callable[..., OnnxStylizer],
) -> Stylizer | None:
    """fp32 at once while the background builds what auto wants of ``entry`` (None: it is cached)."""
    if os.environ.get(PREPARE_ENV, "background") == "wait":
        return None
    int8_path = None
    if m.precision == "auto" and not auto_int8_refusal(entry.meta):
        int8_path = int8_cache_path(entry.meta.name, entry.model_path, int8_tag(style))

    def make_torch() -> Stylizer:
        return _ours(m, entry, "torch", device, precision, style, threads)

    torch_ok = m.backend == "auto"  # `--backend onnx`: export first
    return cold_start(
        m.style,
        m.style_mix,
        entry,
        int8_path,
        make_torch if torch_ok else None,
        lambda p: make(p, chosen="fp32"),
    )


def _foreign(m: ModelConfig, path: Path, kind: str, device: torch.device, threads: int) -> Stylizer:
    """An .onnx file (ours or anyone's) or a TensorRT engine given by path."""
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    if kind == "tensorrt":
        return TensorRTStylizer(path, device)
    input_range = None if m.input_range == "auto" else m.input_range

    def make(onnx_path: Path, n_threads: int = threads, chosen: str = "fp32") -> OnnxStylizer:
        return OnnxStylizer(
            onnx_path,
            device,
            m.onnx_provider,
            input_range=input_range,
            bgr=m.bgr if m.bgr else None,
            threads=n_threads,
            precision=chosen,
        )

    if m.precision == "int8":
        chosen, int8_path = onnx_precision(
            "int8",
            path.name,
            lambda: path,
            int8_cache_path(path.stem, path, foreign_int8_tag(input_range, bool(m.bgr))),
            make,
            m.precision_gate_db,
            None,
        )
        stylizer = named(make(int8_path, chosen=chosen))
    else:
        stylizer = make(path)
    if m.style_mix and stylizer.contract.style_names:
        stylizer.style = np.asarray(
            parse_style_mix(m.style_mix, list(stylizer.contract.style_names), path.stem), np.float32
        )
    return stylizer
