"""Pure tensor math on optical flow: backward warping, Ruder's consistency mask, mask shaping.

Conventions: images and masks are N x C x H x W; a flow is N x 2 x H x W in pixels, channel 0 the
x (column) and channel 1 the y (row) displacement. ``flow_bw`` of frame t (t -> t-1) says where
each pixel of frame t was in frame t-1, so ``warp(frame[t-1], flow_bw)`` predicts frame t.
Every function works on any device and dtype.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def flow_to_tensor(flow: np.ndarray) -> torch.Tensor:
    """An estimator's H x W x 2 numpy flow -> 1 x 2 x H x W float32 tensor (host)."""
    return torch.from_numpy(np.ascontiguousarray(flow.transpose(2, 0, 1)))[None]


def _norm_sq(flow: torch.Tensor) -> torch.Tensor:
    """|flow|^2 per pixel, N x 1 x H x W."""
    return (flow * flow).sum(1, keepdim=True)


def _base_grid(h: int, w: int, like: torch.Tensor) -> torch.Tensor:
    ys = torch.arange(h, device=like.device, dtype=like.dtype)
    xs = torch.arange(w, device=like.device, dtype=like.dtype)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy])[None]  # 1 x 2 x H x W


def sample_coords(flow: torch.Tensor) -> torch.Tensor:
    """Absolute source coordinates x + flow(x), N x 2 x H x W."""
    return _base_grid(flow.shape[-2], flow.shape[-1], flow) + flow


def warp(image: torch.Tensor, flow: torch.Tensor, padding: str = "border") -> torch.Tensor:
    """Backward warp: out(x) = image(x + flow(x)), bilinear. image N x C x H x W, flow N x 2 x H x W."""
    h, w = flow.shape[-2:]
    coords = sample_coords(flow)
    gx = coords[:, 0] * (2.0 / max(w - 1, 1)) - 1.0
    gy = coords[:, 1] * (2.0 / max(h - 1, 1)) - 1.0
    grid = torch.stack([gx, gy], dim=-1)
    return F.grid_sample(
        image, grid.to(image.dtype), mode="bilinear", padding_mode=padding, align_corners=True
    )


def inside_frame(flow: torch.Tensor) -> torch.Tensor:
    """N x 1 x H x W bool: x + flow(x) lands inside the frame."""
    h, w = flow.shape[-2:]
    c = sample_coords(flow)
    ok = (c[:, 0] >= 0) & (c[:, 0] <= w - 1) & (c[:, 1] >= 0) & (c[:, 1] <= h - 1)
    return ok[:, None]


def consistency_mask(
    flow_fw: torch.Tensor,
    flow_bw: torch.Tensor,
    occlusion: tuple[float, float] = (0.01, 0.5),
    motion_boundary: tuple[float, float] = (0.01, 0.002),
) -> torch.Tensor:
    """Ruder et al. 2016: 1 where frame t's pixels are reliably seen in frame t-1, else 0.

    ``flow_fw``: t-1 -> t on frame t-1's grid; ``flow_bw``: t -> t-1 on frame t's grid.
    Occluded: |w~ + w^|^2 > a(|w~|^2 + |w^|^2) + b, with w~ = flow_fw warped by flow_bw.
    Motion boundary: |grad u^|^2 + |grad v^|^2 > a|w^|^2 + b. Leaving the frame also counts.
    Returns N x 1 x H x W float (0 or 1).
    """
    fw_at_t = warp(flow_fw, flow_bw)
    occluded = (
        _norm_sq(fw_at_t + flow_bw) > occlusion[0] * (_norm_sq(fw_at_t) + _norm_sq(flow_bw)) + occlusion[1]
    )
    boundary = flow_gradient_sq(flow_bw) > motion_boundary[0] * _norm_sq(flow_bw) + motion_boundary[1]
    return (~occluded & ~boundary & inside_frame(flow_bw)).to(flow_bw.dtype)


def flow_gradient_sq(flow: torch.Tensor) -> torch.Tensor:
    """|grad u|^2 + |grad v|^2 with central differences (one-sided at the edges), N x 1 x H x W."""
    padded = F.pad(flow, (1, 1, 1, 1), mode="replicate")
    dx = (padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2]) / 2
    dy = (padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1]) / 2
    return (dx * dx + dy * dy).sum(1, keepdim=True)


def erode(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Min filter over a (2r+1)^2 square: shrinks the 1-region by ``radius`` pixels."""
    if radius <= 0:
        return mask
    return -F.max_pool2d(-mask, 2 * radius + 1, stride=1, padding=radius)


def feather(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Box-blur twice (a tent filter) so hard mask edges ramp over about 2 x ``radius`` pixels."""
    if radius <= 0:
        return mask
    k = 2 * radius + 1
    for _ in range(2):
        mask = F.avg_pool2d(F.pad(mask, (radius,) * 4, mode="replicate"), k, stride=1)
    return mask


def resize_flow(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resample a flow field to ``size`` (H, W) and rescale its vectors to the new pixel units."""
    h, w = flow.shape[-2:]
    if (h, w) == tuple(size):
        return flow
    out = F.interpolate(flow, size=size, mode="bilinear", align_corners=False)
    scale = torch.tensor([size[1] / w, size[0] / h], device=flow.device, dtype=flow.dtype)
    return out * scale.view(1, 2, 1, 1)


def resize_mask(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask
    return F.interpolate(mask, size=size, mode="bilinear", align_corners=False)
