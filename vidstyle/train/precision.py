"""How a training run computes: the device, mixed precision and the memory format."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import torch

from ..sysinfo import cpu_has_fast_bf16
from .config import RunSection


@dataclass(frozen=True)
class Precision:
    """``amp``: forward passes autocast to ``amp_dtype``; ``channels_last``: the network, the loss
    network and the batch images use that memory format."""

    device: torch.device
    amp: bool
    amp_dtype: torch.dtype
    channels_last: bool

    def autocast(self) -> AbstractContextManager:
        """A fresh autocast context (a no-op without ``amp``)."""
        if not self.amp:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    @property
    def needs_grad_scaler(self) -> bool:
        """fp16 gradients underflow without loss scaling; bf16 and fp32 need none."""
        return self.amp and self.amp_dtype == torch.float16

    @property
    def amp_name(self) -> str:
        """``bfloat16`` / ``float16``, for the log line."""
        return str(self.amp_dtype).split(".")[-1]


def precision_for(run: RunSection, device: torch.device) -> Precision:
    """``run.amp`` / ``run.channels_last`` resolved for ``device``: auto means on for cuda (and amp
    on CPUs with fast bf16); cuda without bf16 support autocasts to fp16."""
    cuda = device.type == "cuda"
    amp = run.amp == "on" or (run.amp == "auto" and (cuda or cpu_has_fast_bf16()))
    channels_last = run.channels_last == "on" or (run.channels_last == "auto" and cuda)
    dtype = torch.bfloat16 if not cuda or torch.cuda.is_bf16_supported() else torch.float16
    return Precision(device, amp, dtype, channels_last)
