"""Training recipe: one typed config (YAML via :mod:`vidstyle.configtools`), CLI flags override it.

``dump_yaml(TrainConfig())`` is the default recipe; the recipes of the bundled styles live in
``vidstyle/models/bundled/recipes/``. Relative paths in ``paths`` resolve against ``paths.root``
(itself relative to the current directory) when it is set, else against the current directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..config import device_knob
from ..configtools import dump_yaml, knob, load_yaml, override, section
from ..errors import ConfigError
from ..models.arch import ARCH_PRESETS

LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")


@dataclass
class PathsConfig:
    root: str = knob("", "base directory for the relative paths below (empty: current directory)")
    content: list[str] = knob([], "content image directories (searched recursively)")
    styles: list[str] = knob([], "style images; several give one multi-style (CIN) network")
    vgg_weights: str = knob(
        "",
        "VGG16 weights (features state dict or torchvision's checkpoint); "
        "empty: torchvision's ImageNet weights, downloaded on first use",
    )
    identity_weights: str = knob(
        "", "face descriptor weights (.pth or its directory); needed when loss.identity > 0"
    )
    run_dir: str = knob("", "checkpoints, samples, loss curve (empty: <output>.run next to the model)")
    cache_dir: str = knob("", "face detection cache (empty: .vidstyle-cache next to the model)")
    extend: str = knob(
        "",
        "a trained multi-style model (file or catalog name) to add the styles "
        "to: its convolutions and styles stay fixed, only the new styles' norm "
        "rows train (empty: train a new network)",
    )
    init: str = knob(
        "",
        "a trained model (file or catalog name) whose weights start the network; "
        "every weight trains, norm rows are matched to the styles by name and a "
        "style it lacks starts from the mean of its rows (empty: random init)",
    )


@dataclass
class ModelSection:
    name: str = knob("", "model name (empty: the output file's stem)")
    arch: str = knob("full", "network size", choices=tuple(ARCH_PRESETS))
    description: str = knob("", "one line for `vidstyle models list`")
    licence: str = knob("", "licence of the trained weights")


@dataclass
class DataConfig:
    image_size: int = knob(256, "training crop size in px (multiple of 4)", min=32, max=2048)
    scale_jitter: float = knob(
        0.25, "shorter side resized to image_size * U(1, 1 + jitter) before cropping", min=0.0, max=4.0
    )
    hflip: bool = knob(True, "random horizontal flips")
    style_size: int = knob(512, "style image resized to this longer side (px)", min=32, max=4096)
    style_weights: list[float] = knob(
        [], "multi-style: how often each style is picked, in the order of paths.styles (empty: equally often)"
    )
    style_pick: str = knob(
        "sample", "multi-style: a style per sample or one per step", choices=("sample", "step")
    )
    workers: int = knob(-1, "data loader processes (-1: 0 on cpu, 4 on cuda)", min=-1, max=64)
    max_faces: int = knob(4, "faces kept per content image (largest first)", min=0, max=64)


@dataclass
class LossConfig:
    content: float = knob(2e5, "content weight (mean squared VGG feature difference)", min=0.0)
    content_layer: str = knob("relu2_2", "VGG layer of the content loss", choices=LAYERS)
    style: float = knob(5e9, "style weight (mean squared Gram difference, summed over layers)", min=0.0)
    style_layers: list[str] = knob(list(LAYERS), "VGG layers of the style loss", choices=LAYERS)
    style_scale: list[float] = knob(
        [],
        "multi-style: per-style factor on the style weight, in the "
        "order of paths.styles (empty: 1 for every style)",
    )
    tv: float = knob(50.0, "total variation weight (mean squared neighbour difference, 0..255)", min=0.0)
    face_mode: str = knob(
        "weighted",
        "face preservation: content loss up-weighted in face boxes, identity descriptor loss, both, or off",
        choices=("off", "weighted", "identity", "both"),
    )
    face: float = knob(6e5, "extra content weight inside face boxes (face_mode weighted/both)", min=0.0)
    face_margin: float = knob(0.15, "face boxes grown by this share of their size per side", min=0.0, max=2.0)
    identity: float = knob(
        1e6,
        "identity weight: squared descriptor distance, content vs output (face_mode identity/both)",
        min=0.0,
    )
    identity_min_face: int = knob(
        24, "faces narrower than this in the training crop get no identity loss (px)", min=4
    )
    temporal: float = knob(5e6, "output-level temporal loss weight (ReCoNet; 0 = off)", min=0.0)


@dataclass
class MotionConfig:
    shift: float = knob(0.03, "max translation, share of the crop size", min=0.0, max=0.5)
    rotate: float = knob(3.0, "max rotation (degrees)", min=0.0, max=45.0)
    zoom: float = knob(0.04, "max zoom change (share)", min=0.0, max=0.5)
    noise: float = knob(4.0, "max std of the Gaussian noise on the second frame (0..255)", min=0.0, max=64.0)
    light: float = knob(0.04, "max global brightness change of the second frame (share)", min=0.0, max=0.5)


@dataclass
class OptimConfig:
    steps: int = knob(40000, "optimizer steps", min=1)
    batch: int = knob(4, "images per step", min=1, max=1024)
    lr: float = knob(1e-3, "Adam learning rate", min=0.0)
    schedule: str = knob("constant", "learning rate schedule", choices=("constant", "cosine"))
    warmup: int = knob(0, "linear warm-up steps", min=0)
    grad_clip: float = knob(0.0, "clip the gradient norm to this (0: off)", min=0.0)


@dataclass
class RunSection:
    seed: int = knob(0, "random seed (data order, crops, motion, init)", min=0)
    device: str = device_knob("auto (cuda when available), cpu, cuda or cuda:N")
    amp: str = knob(
        "auto",
        "mixed precision (fp16/bf16 on cuda, bf16 on cpu); auto = on for cuda "
        "and for CPUs with AVX512-BF16/AMX",
        choices=("auto", "on", "off"),
    )
    channels_last: str = knob("auto", "memory format; auto = on for cuda", choices=("auto", "on", "off"))
    threads: int = knob(0, "torch CPU threads (0: torch's default)", min=0, max=1024)
    log_every: int = knob(10, "steps between loss records", min=1)
    checkpoint_every: int = knob(500, "steps between checkpoints (0: only at the end)", min=0)
    keep_checkpoints: int = knob(2, "periodic checkpoints kept (last.safetensors always)", min=1)
    sample_every: int = knob(500, "steps between sample grids and loss curves (0: only at the end)", min=0)
    sample_count: int = knob(4, "content images in the sample grid", min=1, max=32)
    sample_size: int = knob(256, "sample grid cell size in px (multiple of 4)", min=32, max=2048)
    progress: str = knob(
        "auto", "progress bar: auto = when stderr is a terminal", choices=("auto", "on", "off")
    )


@dataclass
class TrainConfig:
    paths: PathsConfig = section(PathsConfig, "inputs and outputs")
    model: ModelSection = section(ModelSection, "the network to train")
    data: DataConfig = section(DataConfig, "content crops and style targets")
    loss: LossConfig = section(LossConfig, "loss terms and weights")
    motion: MotionConfig = section(MotionConfig, "synthetic frame pairs for the temporal loss")
    optim: OptimConfig = section(OptimConfig, "optimizer")
    run: RunSection = section(RunSection, "mechanics")

    def resolve(self, path: str) -> Path:
        """``path`` made absolute against ``paths.root`` (or the current directory)."""
        p = Path(os.path.expanduser(path))
        if not p.is_absolute() and self.paths.root:
            p = Path(os.path.expanduser(self.paths.root)) / p
        return Path(os.path.abspath(p))  # normalised: ../ removed, symlinks kept

    @property
    def uses_weighted_faces(self) -> bool:
        return self.loss.face_mode in ("weighted", "both") and self.loss.face > 0

    @property
    def uses_identity(self) -> bool:
        return self.loss.face_mode in ("identity", "both") and self.loss.identity > 0

    @property
    def uses_faces(self) -> bool:
        return (self.uses_weighted_faces or self.uses_identity) and self.data.max_faces > 0


HEADER = """vidstyle training recipe: every knob, with its default.
`vidstyle train` flags override these; `vidstyle train --dump-config` prints the effective values."""


def dump(cfg: TrainConfig) -> str:
    return dump_yaml(cfg, HEADER)


def load_train_config(
    path: str | Path | None = None, overrides: dict[str, object] | None = None
) -> TrainConfig:
    """Defaults <- recipe ``path`` <- ``overrides`` (dotted keys), validated."""
    cfg = load_yaml(TrainConfig, path) if path else TrainConfig()
    return apply_overrides(cfg, overrides or {})


def apply_overrides(cfg: TrainConfig, overrides: dict[str, object]) -> TrainConfig:
    for key, value in overrides.items():
        cfg = override(cfg, key, value)
    check(cfg)
    return cfg


def check(cfg: TrainConfig) -> None:
    """Cross-field rules the per-key checks cannot express."""
    for key in ("data.image_size", "run.sample_size"):
        section_name, name = key.split(".")
        if getattr(getattr(cfg, section_name), name) % 4:
            raise ConfigError(f"{key}: must be a multiple of 4")
    for key, factors in (
        ("loss.style_scale", cfg.loss.style_scale),
        ("data.style_weights", cfg.data.style_weights),
    ):
        if factors and len(factors) != len(cfg.paths.styles):
            raise ConfigError(f"{key}: {len(factors)} factors for {len(cfg.paths.styles)} styles")
        if any(float(f) <= 0 for f in factors):
            raise ConfigError(f"{key}: factors must be positive")
    if cfg.paths.init and cfg.paths.extend:
        raise ConfigError(
            "paths.init and paths.extend exclude each other: extend keeps the base "
            "fixed, init trains all of it"
        )
    if not cfg.loss.style_layers:
        raise ConfigError("loss.style_layers: name at least one layer")
