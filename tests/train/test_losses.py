"""train.losses against hand-computed values: luminance, warp, the temporal loss."""

from __future__ import annotations

import pytest
import torch

from vidstyle.train import losses as L


def test_luminance_and_identity_warp():
    white = torch.full((1, 3, 2, 2), 1.0)
    assert torch.allclose(L.luminance(white), torch.ones(1, 1, 2, 2))
    x = torch.rand(1, 3, 5, 6)
    from vidstyle.train.temporal import to_grid

    yy, xx = torch.meshgrid(torch.arange(5.0), torch.arange(6.0), indexing="ij")
    ident = to_grid(torch.stack([xx, yy], -1), 5, 6)[None]
    assert torch.allclose(L.warp(x, ident), x, atol=1e-6)
    shifted = to_grid(torch.stack([xx + 1, yy], -1), 5, 6)[None]  # out(p) = x(p + 1px right)
    assert torch.allclose(L.warp(x, shifted)[..., :-1], x[..., 1:], atol=1e-6)


def test_temporal_loss_hand_computed():
    n, h, w = 1, 2, 2
    out_t = torch.zeros(n, 3, h, w)
    out_prev_w = torch.zeros(n, 3, h, w)
    out_t[:, 0] = 51.0  # red channel changed by 0.2
    in_t = torch.full((n, 3, h, w), 25.5)  # input brightened by 0.1 (Y = 0.1)
    in_prev_w = torch.zeros(n, 3, h, w)
    mask = torch.tensor([[[[1.0, 1.0], [0.0, 1.0]]]])  # one pixel out of frame
    got = L.temporal_loss(out_t, out_prev_w, in_t, in_prev_w, mask)
    # per channel: mean over 4 pixels of mask * (d_out - 0.1)^2; d_out = 0.2 (red), 0 (g, b)
    want = 3 / 4 * ((0.2 - 0.1) ** 2 + 0.1**2 + 0.1**2)
    assert got.item() == pytest.approx(want, rel=1e-5)
    # an output that follows the input's luminance change exactly costs nothing
    follow = torch.full((n, 3, h, w), 25.5)
    assert L.temporal_loss(follow, out_prev_w, in_t, in_prev_w, mask).item() == pytest.approx(0, abs=1e-10)
