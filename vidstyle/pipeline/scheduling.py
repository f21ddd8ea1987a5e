"""How many frames the stylize stage works on at once, and at what size they fit in memory.

CPU: one frame per core in a worker pool (single-threaded ops); GPU: one worker, batches of 8.
"""

from __future__ import annotations

import torch

from ..config import PipelineConfig
from ..stylize.base import Stylizer
from ..stylize.device import resolve_device
from ..stylize.factory import build_stylizer
from ..sysinfo import available_memory, cpu_count
from .memory import GPU_SHARE


def stylize_workers(cfg: PipelineConfig, device: torch.device) -> int:
    """``model.workers``, else one per CPU core on the CPU and one on a GPU."""
    if cfg.model.workers:
        return cfg.model.workers
    return cpu_count() if device.type == "cpu" else 1


def stylize_batch(cfg: PipelineConfig, device: torch.device) -> int:
    """``model.batch``, else 8 on CUDA and 1 elsewhere."""
    return cfg.model.batch or (8 if device.type == "cuda" else 1)


def frames_in_parallel(cfg: PipelineConfig, device: torch.device) -> int:
    """Frames the stylize stage works on at once: workers x batch."""
    return stylize_workers(cfg, device) * stylize_batch(cfg, device)


def memory_limited_side(stylizer: Stylizer, h: int, w: int, parallel: int) -> int:
    """Longest side a frame may be stylized at so ``parallel`` calls fit in ``GPU_SHARE`` of the GPU's
    free memory (0: no limit). On the CPU the host memory plan (``pipeline.memory``) counts the
    activations instead. A call's activations are ``stylizer.activation_bytes_per_px`` (its network
    family's figure) per stylized pixel.
    """
    per_px = stylizer.activation_bytes_per_px
    max_px = available_memory(stylizer.device) * GPU_SHARE / max(parallel, 1) / per_px
    if h * w <= max_px:
        return 0
    return max(64, int(max(h, w) * (max_px / (h * w)) ** 0.5) // 4 * 4)


def stylize_threads(cfg: PipelineConfig, device: torch.device) -> int:
    """Intra-op threads per stylizer call: ``model.threads``, else the cores shared by the workers."""
    return cfg.model.threads or max(1, cpu_count() // stylize_workers(cfg, device))


def load_stylizer(cfg: PipelineConfig) -> Stylizer:
    """The configured stylizer, with the thread budget of this schedule."""
    device = resolve_device(cfg.model.device)
    threads = stylize_threads(cfg, device)
    if device.type == "cpu":
        # Frame-level parallelism beats intra-op threads on few cores: OpenMP teams of several
        # Python threads oversubscribe the cores and every small op pays for the sync.
        torch.set_num_threads(threads)
    return build_stylizer(cfg.model, device, threads)
