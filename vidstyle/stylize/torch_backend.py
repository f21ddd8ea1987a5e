"""Stylizer backend: our TransformerNet in eager PyTorch (CPU or CUDA, fp32/fp16/bf16)."""

from __future__ import annotations

import torch

from ..models.store import ModelMeta
from ..models.transformer_net import TransformerNet
from .base import crop_to, pad_to_multiple

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


class TorchStylizer:
    """Runs a :class:`TransformerNet` on N x 3 x H x W batches in [0, 1] (any H, W)."""

    def __init__(
        self,
        net: TransformerNet,
        meta: ModelMeta,
        device: torch.device,
        precision: str = "fp32",
        channels_last: bool = False,
        style_w: list[float] | None = None,
    ):
        self.meta = meta
        self.device = device
        self.precision = precision
        self.channels = meta.arch_obj().channels
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
    def __call__(self, batch: torch.Tensor, style_w: torch.Tensor | None = None) -> torch.Tensor:
        """``style_w``: this call's style mix instead of the stylizer's own, (S,) or one row per
        frame (N x S: several styles of a multi-style net in one batched pass)."""
        w = self.style_w if style_w is None else style_w.to(self.style_w.device, self.style_w.dtype)
        x, size = pad_to_multiple(batch.to(self.device, non_blocking=True), 4)
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
