"""``vidstyle bench``: end-to-end and per-stage fps per resolution, against the naive loop.

For each resolution: a clip is generated (a camera move over a portrait, with audio) or the user's
input is scaled to it; the real pipeline runs once to warm up (model load, export caches, thread
pools) and then ``repeats`` times, timed. Reported: median and min-max end-to-end fps, the precision
used, each stage's throughput and busy share, the stylize stage alone per precision, the bottleneck,
peak RSS and GPU memory, FLOPs per frame and the achieved FLOP/s of the stylize stage; then the
naive loop (OpenCV read, torch fp32 batch 1 on the pipeline's device, OpenCV write, same model) on
the same clip, and the ratio of the two.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from ..config import PipelineConfig
from ..errors import ConfigError
from ..geometry import fit_long_side
from ..sysinfo import cpu_count, cpu_model, rss_bytes

RESOLUTIONS = {
    "240p": (240, 426),
    "360p": (360, 640),
    "480p": (480, 854),
    "540p": (540, 960),
    "720p": (720, 1280),
    "1080p": (1080, 1920),
    "1440p": (1440, 2560),
    "4k": (2160, 3840),
}


def parse_resolutions(text: str) -> list[tuple[str, tuple[int, int]]]:
    """'360p,720p,1280x720' -> [(label, (height, width))]; a clear error for anything else."""
    out = []
    for token in filter(None, (t.strip().lower() for t in text.split(","))):
        if token in RESOLUTIONS:
            out.append((token, RESOLUTIONS[token]))
        elif m := re.fullmatch(r"(\d+)x(\d+)", token):
            w, h = int(m.group(1)), int(m.group(2))
            if not (8 <= w <= 16384 and 8 <= h <= 16384):
                raise ConfigError(f"resolution {token!r} is out of range (8..16384 per side)")
            out.append((token, (h, w)))
        else:
            raise ConfigError(f"unknown resolution {token!r} (use {', '.join(RESOLUTIONS)} or WIDTHxHEIGHT)")
    if not out:
        raise ConfigError("no resolutions given")
    return out


class PeakRSS:
    """Samples the process's resident set size every 20 ms; ``peak`` in bytes."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            self._stop.wait(0.02)

    def __enter__(self) -> PeakRSS:
        self.peak = rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


@dataclass
class ResolutionResult:
    label: str
    height: int
    width: int
    frames: int
    fps: float  # median over repeats
    fps_min: float
    fps_max: float
    naive_fps: float | None
    naive_ratio: float | None
    stages: list[dict] = field(default_factory=list)  # from the median run
    bottleneck: str = ""
    peak_rss_mb: float = 0.0
    peak_gpu_mb: float | None = None
    gflop_per_frame: float | None = None
    stylize_tflops: float | None = None
    stylizer: str = ""
    precision: str = ""  # what the default run used
    stylize_precisions: list[dict] = field(default_factory=list)  # the stage alone, per precision

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def machine_description() -> dict:
    import av
    import cv2
    import numpy as np
    import torch

    from ..version import __version__

    try:
        import onnxruntime

        ort = onnxruntime.__version__
    except ImportError:  # pragma: no cover - a dependency
        ort = None
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
    return {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "cpu": cpu_model(),
        "cores": cpu_count(),
        "ram_gb": round(mem / 2**30, 1),
        "gpu": gpu,
        "python": platform.python_version(),
        "vidstyle": __version__,
        "torch": torch.__version__,
        "onnxruntime": ort,
        "av": av.__version__,
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def make_clip(path: Path, size: tuple[int, int], frames: int, source: Path | None) -> Path:
    """A bench clip of ``frames`` frames at ``size`` (H, W): the user's input scaled, or generated."""
    from ..io.synth import demo_photo, pan_zoom, tone, write_clip

    rate = Fraction(30000, 1001)
    if source is None:
        images = pan_zoom(demo_photo(), frames, size, zoom=(1.0, 1.3), center=(0.5, 0.4))
    else:
        import cv2

        from ..io.source import open_source

        src = open_source(str(source))

        def scaled():
            for i, frame in enumerate(src):
                if i >= frames:
                    break
                yield cv2.resize(frame.rgb, (size[1], size[0]), interpolation=cv2.INTER_AREA)

        images = scaled()
    try:
        return write_clip(path, images, rate, audio=tone(float(frames / rate)), crf=16)
    finally:
        if source is not None:
            src.close()


def _gpu_peak_reset() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def _gpu_peak_mb() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() / 2**20


def bench_resolution(
    cfg: PipelineConfig,
    label: str,
    size: tuple[int, int],
    frames: int,
    repeats: int,
    workdir: Path,
    source: Path | None,
    naive: bool,
    pipeline,
    precision_specs: tuple[str, ...] = (),
) -> ResolutionResult:
    from ..models.transformer_net import flops_per_pixel
    from ..stylize.factory import FOREIGN_SUFFIXES
    from .naive import naive_stylize

    clip = make_clip(workdir / f"{label}.mp4", size, frames, source)
    out = workdir / f"{label}.out.mp4"
    pipeline.run(clip, out)  # warm-up: excluded
    runs = []
    for _ in range(repeats):
        _gpu_peak_reset()
        with PeakRSS() as rss:
            t0 = time.perf_counter()
            report = pipeline.run(clip, out)
            wall = time.perf_counter() - t0
        runs.append((report.frames_out / wall, report, rss.peak, _gpu_peak_mb()))
    runs.sort(key=lambda r: r[0])
    fps_values = [r[0] for r in runs]
    fps_med, report, peak, gpu = runs[len(runs) // 2]
    h, w = size
    result = ResolutionResult(
        label,
        h,
        w,
        report.frames_out,
        statistics.median(fps_values),
        fps_values[0],
        fps_values[-1],
        None,
        None,
        report.stats,
        stylizer=report.stylizer,
        peak_rss_mb=peak / 2**20,
        peak_gpu_mb=gpu,
        precision=getattr(pipeline.stylizer, "precision", ""),
    )
    busy = [s for s in report.stats if s.get("busy_share") is not None]
    if busy:
        result.bottleneck = max(busy, key=lambda s: s["busy_share"])["stage"]
    style_path = Path(cfg.model.style)
    if style_path.suffix.lower() not in FOREIGN_SUFFIXES:
        from ..models.catalog import resolve_style
        from ..models.store import read_meta

        entry = resolve_style(cfg.model.style)
        sh, sw = fit_long_side(h, w, cfg.model.max_side)
        ph, pw = -(-sh // 4) * 4, -(-sw // 4) * 4  # the network pads to a multiple of 4
        result.gflop_per_frame = flops_per_pixel(read_meta(entry.model_path).arch_obj()) * ph * pw / 1e9
        stylize = next((s for s in report.stats if s["stage"] == "stylize"), None)
        if stylize and stylize["busy_s"] > 0:
            # all workers' busy time adds up, so FLOP over busy seconds is per worker: scale back
            result.stylize_tflops = (
                result.gflop_per_frame
                * stylize["items"]
                * stylize.get("workers", 1)
                / stylize["busy_s"]
                / 1e3
            )
        if precision_specs:
            from .precisions import precision_table

            result.stylize_precisions = precision_table(
                cfg, list(precision_specs), (ph, pw), max(frames // 4, 4)
            )
        if naive:
            n, secs = naive_stylize(
                entry.model_path, clip, workdir / f"{label}.naive.mp4", device=pipeline.stylizer.device
            )
            result.naive_fps = n / secs
            result.naive_ratio = result.fps / result.naive_fps
    return result
