"""Where the network runs and in what precision: the one place that turns ``--device`` and
``--precision`` into a torch device and a precision name (new accelerators are added here)."""

from __future__ import annotations

import torch

from ..errors import ConfigError
from ..log import log
from .precision import int8_problem


def resolve_device(spec: str) -> torch.device:
    """``auto`` -> cuda when available, else cpu; ``cuda`` without a GPU is a clear error."""
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(spec)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {spec!r} requested but no CUDA GPU is available")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"device {spec!r}: only {torch.cuda.device_count()} GPU(s) present")
    return device


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` -> fp16 on CUDA, fp32 elsewhere; fp16 on the CPU falls back to fp32 (warned); int8
    where :func:`~.precision.int8_problem` allows it."""
    if precision == "auto":  # on the CPU the ONNX backend may still pick int8 (stylize/precision.py)
        return "fp16" if device.type == "cuda" else "fp32"
    if precision == "int8" and (problem := int8_problem(device)):
        raise ConfigError(problem)
    if precision == "fp16" and device.type == "cpu":
        log.warning("fp16 is slow and inexact on CPU; using fp32 (bf16 is the CPU option)")
        return "fp32"
    return precision
