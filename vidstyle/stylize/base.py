"""The Stylizer protocol and the geometry helpers every backend shares."""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F

from ..errors import ModelError
from ..geometry import fit_long_side


class Stylizer(Protocol):
    """Maps a batch of frames to stylized frames.

    ``__call__(batch, style=None)``: N x 3 x H x W float in [0, 1] on ``device`` -> same shape, in
    [0, 1]. Any H x W is accepted (backends pad to their multiple and crop back). ``style`` is the
    network family's style selection for this call (``transformer_net``: mixing weights, (S,) for
    the batch or (N, S) one row per frame); None runs the stylizer's configured style.
    ``activation_bytes_per_px`` (peak bytes of one call per stylized pixel, from the family at this
    precision) sizes the memory plan; ``precision`` is "fp32" | "fp16" | "bf16" | "int8";
    ``name`` goes into logs and reports.
    """

    name: str
    device: torch.device
    precision: str
    activation_bytes_per_px: float

    def __call__(self, batch: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor: ...


def style_runs(
    style: torch.Tensor | None, frames: int, styles: int, where: str
) -> list[tuple[int, int, torch.Tensor | None]]:
    """``style`` checked against a model of ``styles`` styles and cut into runs of consecutive
    frames that share one (S,) row: ``[(start, stop, row), ...]`` covering ``frames`` frames (one
    run for an (S,) style or None). For backends whose graphs take one style row per call."""
    if style is None:
        return [(0, frames, None)]
    if style.dim() not in (1, 2) or style.shape[-1] != styles or (style.dim() == 2 and len(style) != frames):
        raise ModelError(
            f"{where}: style of shape {tuple(style.shape)} for {frames} frames of a {styles}-style "
            f"model (expected ({styles},) or ({frames}, {styles}))"
        )
    if style.dim() == 1:
        return [(0, frames, style)]
    runs: list[tuple[int, int, torch.Tensor | None]] = []
    start = 0
    for i in range(1, frames + 1):
        if i == frames or not torch.equal(style[i], style[start]):
            runs.append((start, i, style[start]))
            start = i
    return runs


def pad_to_multiple(
    x: torch.Tensor, multiple: int = 4, min_size: int = 8
) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad N x C x H x W on the bottom/right to multiples of ``multiple`` (>= ``min_size``).

    Returns the padded tensor and the original (H, W) for :func:`crop_to`. Sides too small to
    reflect (fewer pixels than the pad) are replicated instead. Our networks need H, W >= 8.
    """
    h, w = x.shape[-2:]
    ph = max(-(-h // multiple) * multiple, min_size) - h
    pw = max(-(-w // multiple) * multiple, min_size) - w
    if ph == 0 and pw == 0:
        return x, (h, w)
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode), (h, w)


def crop_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return x[..., : size[0], : size[1]]


def fit_max_side(h: int, w: int, max_side: int) -> tuple[int, int]:
    """Stylization size: the long side at most ``max_side`` (0: unchanged), each side >= 4 px."""
    return fit_long_side(h, w, max_side, min_side=4)
