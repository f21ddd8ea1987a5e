"""Frames between the host and the pipeline's device: uint8 H x W x 3 <-> float 3 x H x W."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..io.transfer import download, upload


def to_tensor(rgb: np.ndarray, device: torch.device) -> torch.Tensor:
    """H x W x 3 uint8 -> 3 x H x W float32 in [0, 1] on ``device`` (uploaded as uint8, converted there)."""
    return upload(torch.from_numpy(rgb), device).permute(2, 0, 1).float().div_(255.0)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """3 x H x W float in [0, 1] -> H x W x 3 uint8 (rounded) on the host (converted on the device)."""
    return download(
        image.mul(255.0).add_(0.5).clamp_(0, 255).to(torch.uint8).permute(1, 2, 0).contiguous()
    ).numpy()


def resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of 3 x H x W to ``size`` (H', W'), antialiased when shrinking."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    shrink = size[0] < image.shape[-2]
    return F.interpolate(image[None], size=size, mode="bilinear", align_corners=False, antialias=shrink)[0]
