"""What the machine has: CPU model, flags and cores, free memory, this process's RSS."""

from __future__ import annotations

import os
import platform
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


@lru_cache(maxsize=1)
def _cpuinfo() -> dict[str, str]:
    """The first processor's entries of /proc/cpuinfo (empty where there is none)."""
    info: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                info[key.strip()] = value.strip()
    except OSError:
        pass
    return info


def cpu_model() -> str:
    return _cpuinfo().get("model name") or platform.processor() or platform.machine()


def cpu_flags() -> set[str]:
    return set(_cpuinfo().get("flags", "").split())


def cpu_has_fast_bf16() -> bool:
    """AVX512-BF16 or AMX: bf16 runs about twice as fast as fp32 on such CPUs."""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


INT8_DOT_FLAGS = {"avx512_vnni", "avx_vnni", "amx_int8", "asimddp"}


def cpu_has_int8_dot() -> bool:
    """VNNI (AVX512 or AVX), AMX or Arm's dot product: int8 convolutions beat fp32 on such CPUs."""
    return bool(INT8_DOT_FLAGS & cpu_flags())


def cpu_count() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def available_memory(device: torch.device | None = None) -> int:
    """Bytes free for work: for a cuda ``device`` the driver's free memory plus what torch's caching
    allocator holds unused (reserved, not allocated); else MemAvailable."""
    if device is not None and getattr(device, "type", "cpu") == "cuda":
        import torch

        cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        return torch.cuda.mem_get_info(device)[0] + max(0, cached)
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 << 30


def rss_bytes() -> int:
    """This process's resident set size now."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
