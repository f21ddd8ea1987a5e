"""train.temporal: a frame pair with known motion."""

from __future__ import annotations

import torch

from vidstyle.train import losses as L


def test_frame_pair_known_motion():
    from vidstyle.train.config import MotionConfig
    from vidstyle.train.temporal import frame_pair

    gen = torch.Generator().manual_seed(0)
    canvas = torch.rand(3, 40, 48) * 255
    still = frame_pair(canvas, 4, 6, 32, gen, MotionConfig(0, 0, 0, 0, 0))
    assert torch.allclose(still.next_clean, still.prev, atol=1e-3)
    assert still.mask.min() == 1.0
    moved = frame_pair(canvas, 4, 6, 32, gen, MotionConfig(shift=0.1, rotate=5, zoom=0.05, noise=3, light=0))
    assert 0.3 < moved.mask.mean() < 1.0
    # frame t equals frame t-1 warped by the known flow, wherever the flow stays inside frame t-1
    warped = L.warp(moved.prev[None], moved.grid[None])[0]
    inner = torch.nn.functional.max_pool2d(1 - moved.mask[None], 3, 1, 1)[0] == 0  # away from edges
    err = (warped - moved.next_clean).abs()[inner.expand(3, -1, -1)]
    assert err.mean() < 6.0  # bilinear-twice blur only, on 0..255 noise
    assert (moved.next - moved.next_clean).abs().mean() > 0.5
