"""flow.ops on synthetic motion with exact ground truth: warp, consistency, masks, resizing, layout."""

from __future__ import annotations

import numpy as np
import torch

from vidstyle.flow.estimators import flow_size
from vidstyle.flow.ops import (
    consistency_mask,
    erode,
    feather,
    flow_to_tensor,
    inside_frame,
    resize_flow,
    warp,
)
from vidstyle.io.synth import textured


def test_warp_with_true_flow_reproduces_next_frame(device, dtype):
    img = torch.from_numpy(textured(64, 80, seed=3)).permute(2, 0, 1)[None].to(device, dtype)
    cur = torch.roll(img, shifts=(2, 5), dims=(2, 3))  # moved by dx=5, dy=2
    flow_bw = torch.zeros(1, 2, 64, 80, device=device, dtype=dtype)
    flow_bw[:, 0], flow_bw[:, 1] = -5.0, -2.0  # where each pixel was in t-1
    pred = warp(img, flow_bw)
    assert torch.allclose(pred[..., 2:, 5:], cur[..., 2:, 5:], atol=1e-3)  # visible part exact
    assert not torch.allclose(pred[..., :2, :5], cur[..., :2, :5], atol=1.0)  # wrapped-in part
    assert not inside_frame(flow_bw)[0, 0, 0, 0] and inside_frame(flow_bw)[0, 0, 10, 10]


def square_scene(dx: int = 6, device: torch.device | None = None, dtype=torch.float32):
    """A square moving right by ``dx`` over a static background: exact flows both ways."""
    h, w = 60, 80
    flow_fw = torch.zeros(1, 2, h, w, device=device, dtype=dtype)  # on frame t-1's grid
    flow_bw = torch.zeros(1, 2, h, w, device=device, dtype=dtype)  # on frame t's grid
    flow_fw[:, 0, 20:40, 20:40] = dx  # the square in t-1 moves right
    flow_bw[:, 0, 20:40, 20 + dx : 40 + dx] = -dx
    return flow_fw, flow_bw


def test_consistency_marks_the_disoccluded_band_only(device, dtype):
    flow_fw, flow_bw = square_scene(dx=6, device=device, dtype=dtype)
    c = consistency_mask(flow_fw, flow_bw)[0, 0]
    assert c[25:35, 21:25].sum() == 0  # uncovered behind the square: occluded
    assert c[5:15, 5:75].min() == 1  # static background far away
    assert c[25:35, 30:42].min() == 1  # inside the moving square: consistent
    assert c[24:36, 45:47].max() == 0  # the square's right edge: motion boundary


def test_consistency_of_a_global_translation_is_all_ones_inside(device, dtype):
    flow = torch.zeros(1, 2, 40, 40, device=device, dtype=dtype)
    flow[:, 0] = 2.5
    c = consistency_mask(-flow, flow)[0, 0]
    assert c[:, :37].min() == 1 and c[:, 38:].max() == 0  # right edge leaves the frame


def test_erode_and_feather(device, dtype):
    mask = torch.zeros(1, 1, 30, 30, device=device, dtype=dtype)
    mask[..., 10:20, 10:20] = 1
    e = erode(mask, 2)
    assert e.sum() == 36 and e[0, 0, 12:18, 12:18].min() == 1
    f = feather(mask, 2)
    assert 0 <= f.min() and f.max() <= 1
    assert f[0, 0, 15, 15] == 1 and f[0, 0, 0, 0] == 0
    assert 0 < f[0, 0, 15, 10] < 1  # the edge now ramps
    assert torch.allclose(f.sum(), mask.sum(), rtol=0.02)  # blur moves mass, keeps it


def test_resize_flow_rescales_vectors(device, dtype):
    flow = torch.ones(1, 2, 10, 20, device=device, dtype=dtype) * torch.tensor(
        [2.0, -1.0], device=device, dtype=dtype
    ).view(1, 2, 1, 1)
    big = resize_flow(flow, (30, 80))
    assert big.shape == (1, 2, 30, 80) and big.dtype == dtype and big.device.type == device.type
    assert torch.allclose(big[:, 0], torch.full_like(big[:, 0], 8.0))
    assert torch.allclose(big[:, 1], torch.full_like(big[:, 1], -3.0))


def test_flow_size_and_tensor_layout():
    assert flow_size(1080, 1920, 480) == (270, 480)
    assert flow_size(360, 640, 0) == (360, 640) == flow_size(360, 640, 800)
    f = np.zeros((5, 7, 2), np.float32)
    f[..., 0] = 1
    t = flow_to_tensor(f)
    assert t.shape == (1, 2, 5, 7) and t[0, 0].eq(1).all() and t[0, 1].eq(0).all()
