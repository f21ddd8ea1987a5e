"""The Stylizer protocol and the geometry helpers every backend shares."""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F

from ..geometry import fit_long_side


class Stylizer(Protocol):
    """Maps a batch of frames to stylized frames.

    ``__call__(batch)``: N x 3 x H x W float in [0, 1] on ``device`` -> same shape, in [0, 1].
    Any H x W is accepted (backends pad to their multiple and crop back).
    ``channels`` (the network's base width, 32 for the full TransformerNet) and ``precision``
    ("fp32" | "fp16" | "bf16") size the memory estimate; ``name`` goes into logs and reports.
    """

    name: str
    device: torch.device
    channels: int
    precision: str

    def __call__(self, batch: torch.Tensor) -> torch.Tensor: ...


def pad_to_multiple(
    x: torch.Tensor, multiple: int = 4, min_size: int = 8
) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad N x C x H x W on the bottom/right to multiples of ``multiple`` (>= ``min_size``).

    Returns the padded tensor and the original (H, W) for :func:`crop_to`. Sides too small to
    reflect (fewer pixels than the pad) are replicated instead. TransformerNet needs H, W >= 8.
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
