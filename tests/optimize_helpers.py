"""What the optimization tests share: VGG16 stacks (the real one from ../shared, or a random one),
a painting, a config for tiny CPU runs, and small clips."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import SHARED, moving_frames

from vidstyle.config import PipelineConfig

FAST_LAYERS = dict(style_layers=["relu1_1", "relu2_1"], content_layer="relu2_2")


def opt_cfg(**kw) -> PipelineConfig:
    cfg = PipelineConfig()
    o = dataclasses.replace(cfg.optimize, device="cpu", tol=0, **kw)
    return dataclasses.replace(cfg, optimize=o, run=dataclasses.replace(cfg.run, progress="off"))


@pytest.fixture(scope="module")
def real_vgg():
    if SHARED is None:
        pytest.skip("../shared/data is not present (set VIDSTYLE_SHARED): needs the VGG16 weights")
    from vidstyle.perceptual.vgg import LAYER_INDEX, load_vgg

    return load_vgg(SHARED / "vgg16" / "vgg16_features_relu4_3.pth", layers=tuple(LAYER_INDEX))


@pytest.fixture(scope="module")
def random_vgg():
    from vidstyle.perceptual.vgg import LAYER_INDEX, VGGFeatures

    torch.manual_seed(0)
    net = VGGFeatures(tuple(LAYER_INDEX))
    with torch.no_grad():  # keep activations of the random stack from shrinking to nothing
        for m in net.features:
            if isinstance(m, torch.nn.Conv2d):
                m.weight.mul_(2.0)
    return net


@pytest.fixture(scope="module")
def painting(tmp_path_factory) -> Path:
    """The real Starry Night when ../shared is there, else a swirl of saturated colours."""
    if SHARED is not None:
        return SHARED / "styles" / "starry_night.jpg"
    from PIL import Image

    y, x = np.mgrid[0:96, 0:96] / 96.0
    rgb = np.stack([np.sin(12 * x + 4 * y), np.cos(9 * y - 5 * x), np.sin(7 * (x + y))], -1)
    path = tmp_path_factory.mktemp("style") / "swirl.png"
    Image.fromarray(((rgb * 0.5 + 0.5) * 255).astype(np.uint8)).save(path)
    return path


def gatys_for(cfg: PipelineConfig, vgg, painting: Path):
    from vidstyle.io.source import load_image
    from vidstyle.optimize.gatys import Gatys

    return Gatys(cfg.optimize, vgg, load_image(painting), torch.device("cpu"))


def batch(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float()


def gram_distance(vgg, x: torch.Tensor, target: dict) -> float:
    from vidstyle.optimize.objective import style_grams

    g = style_grams(vgg, x, list(target))
    return float(sum(((g[k] - target[k]) ** 2).sum() for k in target))


# ------------------------------------------------------------------------------ video
def clip(path: Path, n: int, h: int = 48, w: int = 64, audio: bool = True) -> Path:
    from vidstyle.io.synth import tone, write_clip

    rate = Fraction(30000, 1001)
    return write_clip(path, moving_frames(n, h, w), rate, audio=tone(n / float(rate)) if audio else None)
