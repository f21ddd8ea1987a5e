"""Synthetic frame pairs for the temporal loss: a still image seen through a small known motion.

Frame t-1 is a crop of a canvas; frame t samples the same canvas through a random similarity
motion T (shift, rotation, zoom about the crop centre), so the flow t -> t-1 is known exactly:
pixel p of frame t shows what frame t-1 shows at T(p). Frame t also gets a global brightness change
(which the loss expects the output to follow, through the luminance term) and sensor-like noise
(which it does not: the loss target uses the noise-free frame, so the network learns to ignore it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .config import MotionConfig


def _uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen))


def random_motion(gen: torch.Generator, size: int, cfg: MotionConfig) -> torch.Tensor:
    """2 x 3 matrix mapping frame-t pixel coords to frame-(t-1) pixel coords (about the centre)."""
    angle = math.radians(_uniform(gen, -cfg.rotate, cfg.rotate))
    scale = 1.0 + _uniform(gen, -cfg.zoom, cfg.zoom)
    tx, ty = (_uniform(gen, -cfg.shift, cfg.shift) * size for _ in range(2))
    c = (size - 1) / 2.0
    a, b = scale * math.cos(angle), scale * math.sin(angle)
    # q = A (p - c) + c + t
    return torch.tensor(
        [[a, -b, c - a * c + b * c + tx], [b, a, c - b * c - a * c + ty]], dtype=torch.float32
    )


def _apply(m: torch.Tensor, size: int) -> torch.Tensor:
    """Pixel-centre coords of a size x size frame mapped by ``m``: size x size x 2 (x, y)."""
    r = torch.arange(size, dtype=torch.float32)
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    pts = torch.stack([xx, yy, torch.ones_like(xx)], -1)
    return pts @ m.T


def to_grid(coords: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Pixel-centre coords (..., 2) in an h x w image -> grid_sample coords (align_corners=False)."""
    return torch.stack([(2 * coords[..., 0] + 1) / w - 1, (2 * coords[..., 1] + 1) / h - 1], -1)


@dataclass
class FramePair:
    prev: torch.Tensor  # 3 x S x S, frame t-1 (0..255)
    next: torch.Tensor  # 3 x S x S, frame t as the network sees it (with noise)
    next_clean: torch.Tensor  # 3 x S x S, frame t without the noise (the loss target's input)
    grid: torch.Tensor  # S x S x 2, warps frame t-1 onto frame t
    mask: torch.Tensor  # 1 x S x S, 1 where T(p) falls inside frame t-1


def frame_pair(
    canvas: torch.Tensor, x0: int, y0: int, size: int, gen: torch.Generator, cfg: MotionConfig
) -> FramePair:
    """A pair from ``canvas`` (3 x Hc x Wc, 0..255) whose frame t-1 is the crop at (x0, y0)."""
    _, hc, wc = canvas.shape
    prev = canvas[:, y0 : y0 + size, x0 : x0 + size]
    q = _apply(random_motion(gen, size, cfg), size)  # in frame t-1 coords
    on_canvas = to_grid(q + torch.tensor([x0, y0], dtype=torch.float32), hc, wc)
    nxt = F.grid_sample(
        canvas[None], on_canvas[None], mode="bilinear", padding_mode="border", align_corners=False
    )[0]
    nxt = nxt * (1.0 + _uniform(gen, -cfg.light, cfg.light))
    sigma = _uniform(gen, 0.0, cfg.noise)
    noisy = nxt + sigma * torch.randn(nxt.shape, generator=gen)
    inside = (q[..., 0] >= 0) & (q[..., 0] <= size - 1) & (q[..., 1] >= 0) & (q[..., 1] <= size - 1)
    return FramePair(
        prev, noisy.clamp(0, 255), nxt.clamp(0, 255), to_grid(q, size, size), inside[None].float()
    )
