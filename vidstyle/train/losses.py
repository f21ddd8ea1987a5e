"""Training-only loss terms (the perceptual ones live in :mod:`vidstyle.perceptual.losses`).

* temporal (ReCoNet, output level): sum over channels c of mean over pixels of
  M * ((O_t - W(O_t-1))_c - (I_t - W(I_t-1))_Y)^2, images scaled to 0..1, averaged over the batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LUMA = (0.299, 0.587, 0.114)


def luminance(x: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W RGB -> N x 1 x H x W luma (BT.601 weights)."""
    w = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def warp(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Backward warp: out(p) = x(grid(p)), ``grid`` N x H x W x 2 in grid_sample's [-1, 1].
    Always float32: bf16 grid coordinates would be off by up to a pixel."""
    return F.grid_sample(x.float(), grid.float(), mode="bilinear", padding_mode="border", align_corners=False)


def temporal_loss(
    out_t: torch.Tensor,
    out_prev_warped: torch.Tensor,
    in_t: torch.Tensor,
    in_prev_warped: torch.Tensor,
    mask: torch.Tensor,
) -> torch.Tensor:
    """ReCoNet output-level loss; images in 0..255 (scaled to 0..1 inside), ``mask`` N x 1 x H x W
    is 1 where the warp is valid."""
    d_out = (out_t.float() - out_prev_warped.float()) / 255.0
    d_in = luminance((in_t.float() - in_prev_warped.float()) / 255.0)
    return (mask.float() * (d_out - d_in) ** 2).mean(dim=(0, 2, 3)).sum()
