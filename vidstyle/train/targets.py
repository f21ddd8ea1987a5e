"""The style side of the loss: the style images of a run and their Gram matrices."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import InputError
from ..perceptual import losses as P
from .config import TrainConfig
from .data import load_style
from .precision import Precision


@dataclass(frozen=True)
class Styles:
    """The styles a run trains, in ``paths.styles`` order: ``names`` are the file stems (the names
    the model file gives them), ``images`` 1 x 3 x H x W float (0..255), longer side
    ``data.style_size``."""

    paths: list[Path]
    names: list[str]
    images: list[torch.Tensor]


def load_styles(cfg: TrainConfig) -> Styles:
    """Read ``paths.styles``; InputError when none is given, one cannot be read, or two share a
    file stem (the model would hold two styles of one name)."""
    if not cfg.paths.styles:
        raise InputError("no style image given (--style IMAGE)")
    paths = [cfg.resolve(s) for s in cfg.paths.styles]
    names = [p.stem for p in paths]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise InputError(f"style images must have distinct file names (stems): {', '.join(sorted(dupes))}")
    return Styles(paths, names, [load_style(p, cfg.data.style_size) for p in paths])


def style_grams(
    vgg: torch.nn.Module, images: list[torch.Tensor], layers: list[str], precision: Precision
) -> dict[str, torch.Tensor]:
    """{layer: K x C x C} Gram matrices of the K style ``images`` (row k: style k), float32, on
    ``precision.device``; the loss network runs under the run's autocast."""
    with torch.no_grad(), precision.autocast():
        feats = [vgg(s.to(precision.device), layers) for s in images]
    return {layer: torch.cat([P.gram(f[layer]) for f in feats]) for layer in layers}


def style_scale(factors: list[float]) -> torch.Tensor | None:
    """``loss.style_scale`` as a K tensor (per-style factor on the style weight), None when empty."""
    return torch.tensor([float(f) for f in factors]) if factors else None
