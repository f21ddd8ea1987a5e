"""The pipeline's one typed config object (mirrors ``pipeline.yaml``; CLI flags override it).

Load order: dataclass defaults <- config file (``--config FILE``, else ``./pipeline.yaml`` when
present) <- CLI flags / ``--set key=value``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .configtools import dump_yaml, knob, load_yaml, override, section

DEVICE_PATTERN = r"auto|cpu|cuda(:\d+)?"


@dataclass
class ModelConfig:
    style: str = knob("default", "style name from `vidstyle models list`, or a model file path")
    style_mix: str = knob("", "multi-style models: blend, e.g. 'wave=0.7,the_scream=0.3' (empty: off)")
    backend: str = knob("torch", "inference engine", choices=("torch",))
    device: str = knob("auto", "auto (cuda when available, else cpu), cpu, cuda or cuda:N",
                       pattern=DEVICE_PATTERN, pattern_help="auto, cpu, cuda or cuda:N")
    precision: str = knob("auto", "auto = fp16 on cuda, fp32 on cpu",
                          choices=("auto", "fp32", "fp16", "bf16"))
    batch: int = knob(4, "frames per stylizer call", min=1, max=256)
    max_side: int = knob(0, "stylize at most this long side in px, then scale back (0: native)",
                         min=0, max=16384)
    channels_last: str = knob("auto", "memory format; auto = on for cuda only",
                              choices=("auto", "on", "off"))
    threads: int = knob(0, "torch intra-op threads on cpu (0: torch's default)", min=0, max=1024)


@dataclass
class InputConfig:
    image_fps: str = knob("25", "frame rate given to image-sequence inputs, e.g. 25 or 30000/1001",
                          pattern=r"\d+(/\d+)?(\.\d+)?", pattern_help="a number or a ratio like 30000/1001")
    decode_threads: int = knob(0, "decoder threads (0: FFmpeg's automatic choice)", min=0, max=64)


@dataclass
class EncodeConfig:
    codec: str = knob("auto", "video encoder; auto = libx264, or libvpx-vp9 for .webm",
                      choices=("auto", "libx264", "libx265", "libvpx-vp9", "h264_nvenc", "hevc_nvenc"))
    crf: int = knob(18, "constant rate factor (lower = better quality, bigger file)", min=0, max=63)
    preset: str = knob("medium", "encoder speed/size trade-off (x264/x265 presets)",
                       choices=("ultrafast", "superfast", "veryfast", "faster", "fast", "medium",
                                "slow", "slower", "veryslow"))
    pix_fmt: str = knob("yuv420p", "output pixel format; odd sizes fall back to yuv444p",
                        choices=("yuv420p", "yuv444p"))
    audio: str = knob("auto", "auto = copy when the container accepts the codec, else transcode",
                      choices=("auto", "copy", "transcode", "none"))
    audio_bitrate: int = knob(192_000, "bit rate of transcoded audio (bit/s)", min=8_000, max=1_536_000)
    options: dict[str, str] = knob({}, "extra encoder options passed to FFmpeg, e.g. {tune: film}")


@dataclass
class FarnebackConfig:
    pyr_scale: float = knob(0.5, "image scale between pyramid levels", min=0.1, max=0.9)
    levels: int = knob(3, "pyramid levels", min=1, max=10)
    winsize: int = knob(15, "averaging window (px at flow scale)", min=3, max=101)
    iterations: int = knob(3, "iterations per pyramid level", min=1, max=20)
    poly_n: int = knob(5, "pixel neighbourhood of the polynomial expansion", choices=(5, 7))
    poly_sigma: float = knob(1.2, "Gaussian sigma of the polynomial expansion", min=0.5, max=3.0)


@dataclass
class FlowConfig:
    backend: str = knob("farneback", "optical-flow estimator (dis: faster, a little less accurate)",
                        choices=("farneback", "dis"))
    long_side: int = knob(480, "flow is computed with the long side scaled to this (px; 0: full size)",
                          min=0, max=8192)
    workers: int = knob(2, "parallel flow workers (frame pairs are independent)", min=1, max=64)
    farneback: FarnebackConfig = section(FarnebackConfig, "Farneback parameters (OpenCV)")
    dis_preset: str = knob("fast", "DIS preset", choices=("ultrafast", "fast", "medium"))


@dataclass
class TemporalConfig:
    mode: str = knob("blend", "off: per-frame; blend: mix in the previous output warped along the flow",
                     choices=("off", "blend"))
    alpha: float = knob(0.7, "weight of the warped previous output where the flow is consistent",
                        min=0.0, max=1.0)
    occlusion: list[float] = knob([0.01, 0.5], "Ruder occlusion test a, b: |w~+w^|^2 > a(|w~|^2+|w^|^2) + b",
                                  min=0.0, length=2)
    motion_boundary: list[float] = knob([0.01, 0.002], "Ruder motion-boundary test a, b: "
                                        "|grad u^|^2+|grad v^|^2 > a|w^|^2 + b", min=0.0, length=2)
    erode: int = knob(1, "shrink the consistent region by this many px (flow scale)", min=0, max=32)
    feather: int = knob(2, "soften mask edges over about 2x this many px (flow scale)", min=0, max=64)
    scene_cut: float = knob(0.35, "reset when fewer than this share of pixels are consistent",
                            min=0.0, max=1.0)


@dataclass
class RunConfig:
    queue_size: int = knob(8, "frames buffered between two stages (bounds memory)", min=1, max=1024)
    progress: str = knob("auto", "progress bar: auto = when stderr is a terminal",
                         choices=("auto", "on", "off"))
    stats: bool = knob(False, "print per-stage throughput at the end")


@dataclass
class PipelineConfig:
    model: ModelConfig = section(ModelConfig, "style network and inference")
    input: InputConfig = section(InputConfig, "decoding")
    flow: FlowConfig = section(FlowConfig, "optical flow between consecutive frames (temporal mode)")
    temporal: TemporalConfig = section(TemporalConfig, "temporal stabilisation")
    encode: EncodeConfig = section(EncodeConfig, "output encoding")
    run: RunConfig = section(RunConfig, "pipeline mechanics")


HEADER = """vidstyle pipeline configuration: every knob, with its default.
CLI flags override these; `vidstyle config show` prints the effective values."""


def load_config(path: str | Path | None = None, overrides: dict[str, object] | None = None,
                search_cwd: bool = True) -> PipelineConfig:
    """Defaults <- ``path`` (or ./pipeline.yaml when ``search_cwd``) <- ``overrides`` (dotted keys)."""
    if path is None and search_cwd and Path("pipeline.yaml").is_file():
        path = Path("pipeline.yaml")
    cfg = load_yaml(PipelineConfig, path) if path is not None else PipelineConfig()
    for key, value in (overrides or {}).items():
        if value is not None:
            cfg = override(cfg, key, value)
    return cfg


def config_yaml(cfg: PipelineConfig) -> str:
    return dump_yaml(cfg, HEADER)
