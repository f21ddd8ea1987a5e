"""Stylizer backend: our TransformerNet in eager PyTorch (CPU or CUDA, fp32/fp16/bf16)."""

from __future__ import annotations

import torch

from ..log import log
from ..models.store import ModelMeta
from ..models.transformer_net import TransformerNet
from .base import crop_to, pad_to_multiple

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def resolve_device(spec: str) -> torch.device:
    """``auto`` -> cuda when available, else cpu; ``cuda`` without a GPU is a clear error."""
    from ..errors import ConfigError

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
    if precision == "auto":
        return "fp16" if device.type == "cuda" else "fp32"
    if precision == "fp16" and device.type == "cpu":
        log.warning("fp16 is slow and inexact on CPU; using fp32 (bf16 is the CPU option)")
        return "fp32"
    return precision


class TorchStylizer:
    """Runs a :class:`TransformerNet` on N x 3 x H x W batches in [0, 1] (any H, W)."""

    def __init__(self, net: TransformerNet, meta: ModelMeta, device: torch.device,
                 precision: str = "fp32", channels_last: bool = False,
                 style_w: list[float] | None = None):
        self.meta = meta
        self.device = device
        self.precision = precision
        self.dtype = DTYPES[precision]
        self.channels_last = channels_last
        self.scale = float(meta.input_range)
        # fp16 weights on the GPU; bf16 runs under autocast (weights stay fp32, convs in bf16)
        param_dtype = torch.float16 if precision == "fp16" else torch.float32
        self.net = net.to(device=device, dtype=param_dtype).eval()
        if channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)
        weights = style_w if style_w is not None else [1.0] + [0.0] * (net.num_styles - 1)
        self.style_w = torch.tensor(weights, dtype=param_dtype, device=device)
        self.name = f"torch-{device.type}-{precision}"

    @torch.inference_mode()
    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        x, size = pad_to_multiple(batch.to(self.device), 4)
        x = x * self.scale
        if self.precision == "fp16":
            x = x.half()
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if self.precision == "bf16":
            with torch.autocast(self.device.type, dtype=torch.bfloat16):
                y = self.net(x, self.style_w)
        else:
            y = self.net(x, self.style_w)
        y = (y.float() / self.scale).clamp_(0.0, 1.0)
        return crop_to(y, size).contiguous()
