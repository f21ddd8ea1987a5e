"""Tensors between host and device memory: pinned staging and copies that wait for nothing else.

On CUDA a copy from pageable host memory is staged by the driver and blocks the calling thread;
from pinned (page-locked) memory it runs asynchronously on the copy engine. ``torch``'s caching
host allocator recycles the pinned buffers, so pinning per frame costs one host memcpy after the
first frames. Elsewhere both functions are plain ``.to``.
"""

from __future__ import annotations

import torch


def upload(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A host tensor on ``device``; for CUDA through pinned memory with a non-blocking copy."""
    if device.type != "cuda" or t.device.type != "cpu":
        return t.to(device)
    return t.pin_memory().to(device, non_blocking=True)


def download(t: torch.Tensor) -> torch.Tensor:
    """A CUDA tensor in pinned host memory, once the copy (and the work queued before it on this
    stream) is done; a CPU tensor unchanged. Waits on an event rather than the whole device."""
    if t.device.type != "cuda":
        return t
    host = torch.empty(t.shape, dtype=t.dtype, pin_memory=True)
    host.copy_(t, non_blocking=True)
    done = torch.cuda.Event()
    done.record(torch.cuda.current_stream(t.device))
    done.synchronize()
    return host
