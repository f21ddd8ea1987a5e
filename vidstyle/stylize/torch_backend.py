"""Stylizer backend: a network of any family in eager PyTorch (CPU or CUDA, fp32/fp16/bf16)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..models.store import ModelMeta
from .accel import Net
from .base import crop_to, pad_to_multiple

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


class TorchStylizer:
    """Runs ``meta``'s network ``net`` on N x 3 x H x W batches in [0, 1] (any H, W).

    ``style``: the default style selection (the family's; None: its first style); a call may
    give its own.
    """

    def __init__(
        self,
        net: nn.Module,
        meta: ModelMeta,
        device: torch.device,
        precision: str = "fp32",
        channels_last: bool = False,
        style: Sequence[float] | None = None,
    ):
        family = meta.network_family()
        self.meta = meta
        self.device = device
        self.precision = precision
        self.activation_bytes_per_px = family.activation_bytes_per_px(meta.arch_config, precision)
        self.size_multiple = family.size_multiple
        self.dtype = DTYPES[precision]
        self.channels_last = channels_last
        self.scale = float(meta.input_range)
        # fp16 weights on the GPU; bf16 runs under autocast (weights stay fp32, convs in bf16)
        self.param_dtype = torch.float16 if precision == "fp16" else torch.float32
        module = net.to(device=device, dtype=self.param_dtype).eval()
        if channels_last:
            module = module.to(memory_format=torch.channels_last)
        self.net: Net = module  # accel may wrap it (torch.compile, CUDA graphs)
        weights = family.choose_style(meta, 0) if style is None else list(style)
        self.style = None if weights is None else self._on_device(torch.tensor(weights))
        self.name = f"torch-{device.type}-{precision}"

    def _on_device(self, style: torch.Tensor) -> torch.Tensor:
        return style.to(self.device, self.param_dtype)

    @torch.inference_mode()
    def __call__(self, batch: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        """``style``: this call's style instead of the stylizer's own, (S,) or one row per frame
        (N x S: several styles of a multi-style net in one batched pass)."""
        w = self.style if style is None else self._on_device(style)
        x, size = pad_to_multiple(batch.to(self.device, non_blocking=True), self.size_multiple)
        # scale in fp32, then one pass converts dtype and layout
        layout = torch.channels_last if self.channels_last else torch.contiguous_format
        x = (x * self.scale).to(
            torch.float16 if self.precision == "fp16" else torch.float32, memory_format=layout
        )
        if self.precision == "bf16":
            # no cast cache: a CUDA graph capture must not keep casts made outside it
            with torch.autocast(self.device.type, dtype=torch.bfloat16, cache_enabled=False):
                y = self.net(x, w)
        else:
            y = self.net(x, w)
        # one pass back to fp32 NCHW (a new tensor: a CUDA graph's output buffer is reused)
        y = y.to(torch.float32, memory_format=torch.contiguous_format, copy=True)
        y = y.div_(self.scale).clamp_(0.0, 1.0)
        return crop_to(y, size).contiguous()
