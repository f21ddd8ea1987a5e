"""The stylize stage alone per backend and precision, run as the pipeline runs it.

On the CPU one frame per worker thread (each call single-threaded), on a GPU batches; warm-up
excluded; fps = frames / wall time. ``vidstyle bench`` prints these beside the end-to-end ratio,
``benchmarks/backends.py`` sweeps them over resolutions.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from ..config import PipelineConfig
from ..configtools import override
from ..errors import ConfigError, VidstyleError

CPU_SPECS = ("onnx-fp32", "onnx-int8", "torch-bf16")


def parse_specs(text: str) -> list[str]:
    """'onnx-fp32,torch-bf16' -> the list; 'none' or '' -> []."""
    return [] if text.strip().lower() in ("", "none") else [t.strip() for t in text.split(",") if t.strip()]


def check_specs(cfg: PipelineConfig, specs: list[str]) -> None:
    """ConfigError naming the spec whose backend or precision is no known value (a spec that is
    well-formed but cannot run here is reported in its row instead)."""
    for spec in specs:
        try:
            spec_config(cfg, spec)
        except ConfigError as exc:
            raise ConfigError(f"--precisions {spec!r}: {exc}") from None


def spec_config(cfg: PipelineConfig, spec: str) -> PipelineConfig:
    """``cfg`` with backend and precision from ``spec`` ('onnx-int8', 'torch', 'torch-bf16')."""
    backend, _, precision = spec.partition("-")
    return override(override(cfg, "model.backend", backend), "model.precision", precision or "auto")


def stylize_fps(cfg: PipelineConfig, size: tuple[int, int], frames: int, stylizer=None) -> dict:
    """fps of ``cfg``'s stylizer (built unless given) on ``frames`` random frames of ``size`` (H, W)."""
    import torch

    from ..pipeline.scheduling import load_stylizer, stylize_batch, stylize_workers

    stylizer = stylizer or load_stylizer(cfg)
    workers, batch = stylize_workers(cfg, stylizer.device), stylize_batch(cfg, stylizer.device)
    x = torch.rand(batch, 3, *size, device=stylizer.device)
    stylizer(x)  # warm-up
    calls = max(1, frames // batch)
    cuda = stylizer.device.type == "cuda"
    with ThreadPoolExecutor(workers) as pool:
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        list(pool.map(lambda _: stylizer(x), range(calls)))
        if cuda:
            torch.cuda.synchronize()
        secs = time.perf_counter() - t0
    return {
        "stylizer": stylizer.name,
        "precision": getattr(stylizer, "precision", ""),
        "workers": workers,
        "batch": batch,
        "fps": round(calls * batch / secs, 3),
    }


def precision_table(cfg: PipelineConfig, specs: list[str], size: tuple[int, int], frames: int) -> list[dict]:
    """One row per spec; a spec that cannot run here (no TensorRT, quantizer refused) says why."""
    rows = []
    for spec in specs:
        try:
            rows.append({"spec": spec, **stylize_fps(spec_config(cfg, spec), size, frames)})
        except VidstyleError as exc:
            rows.append({"spec": spec, "error": str(exc)})
    return rows
