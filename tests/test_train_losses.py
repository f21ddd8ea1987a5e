"""Training-only losses against hand-computed values; warps, frame pairs, CIN, face chips."""

from __future__ import annotations

import math

import numpy as np
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


def test_cin_one_hot_mix_equals_single_style():
    from vidstyle.models.transformer_net import ArchConfig, TransformerNet

    torch.manual_seed(0)
    multi = TransformerNet(ArchConfig(channels=4, res_blocks=1, num_styles=2))
    with torch.no_grad():
        for name, p in multi.named_parameters():
            if name.endswith("norm.weight") or ".norm" in name:
                p.add_(torch.randn_like(p))
    single = TransformerNet(ArchConfig(channels=4, res_blocks=1, num_styles=1))
    state = {k: (v[:1] if v.dim() == 2 and v.shape[0] == 2 else v) for k, v in multi.state_dict().items()}
    single.load_state_dict(state)
    x = torch.rand(2, 3, 16, 16) * 255
    with torch.no_grad():
        mixed = multi(x, torch.tensor([1.0, 0.0]))  # one mix for the batch
        assert torch.equal(mixed, single(x))
        per_sample = multi(x, torch.tensor([[1.0, 0.0], [1.0, 0.0]]))  # the training path
        assert torch.equal(per_sample, single(x, torch.tensor([[1.0], [1.0]])))
        assert torch.allclose(per_sample, mixed, atol=1e-3)
        assert not torch.allclose(mixed, multi(x, torch.tensor([0.0, 1.0])))


def test_similarity_recovers_transform():
    from vidstyle.faces.align import similarity

    src = np.random.default_rng(0).uniform(0, 100, (5, 2))
    a, b = 1.5 * math.cos(0.3), 1.5 * math.sin(0.3)
    m = np.array([[a, -b, 10.0], [b, a, -4.0]])
    dst = src @ m[:, :2].T + m[:, 2]
    assert np.allclose(similarity(src, dst), m, atol=1e-9)


def test_face_chip_of_template_is_identity_and_differentiable():
    from vidstyle.faces.align import face_chips, template

    img = (torch.rand(1, 3, 150, 150) * 255).requires_grad_(True)
    chip = face_chips(img, torch.zeros(1, dtype=torch.long), template()[None])
    assert torch.allclose(chip, img, atol=0.05)  # 0..255 scale, float32 theta
    chip.sum().backward()
    assert img.grad is not None and img.grad.abs().sum() > 0
    # a face at half scale in a larger image fills the chip after alignment
    big = torch.zeros(1, 3, 300, 300)
    big[..., 100:175, 60:135] = 255.0
    lm = template()[None] / 2 + np.array([60.0, 100.0]) - 0.25
    chip = face_chips(big, torch.zeros(1, dtype=torch.long), lm)
    assert chip[..., 10:140, 10:140].mean() > 250
