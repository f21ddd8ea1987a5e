"""compose.temporal: the blend formula, detail restoration, the box mean, resets."""

from __future__ import annotations

import pytest
import torch

from vidstyle.compose.temporal import TemporalState, restore_detail, temporal_blend


def test_blend_formula(device, dtype):
    s, w = (
        torch.rand(1, 3, 8, 8, device=device, dtype=dtype),
        torch.rand(1, 3, 8, 8, device=device, dtype=dtype),
    )
    c = (torch.rand(1, 1, 8, 8, device=device) > 0.5).to(dtype)
    assert torch.equal(temporal_blend(s, w, c, 0.0), s)  # alpha 0: per-frame, exactly
    assert torch.equal(temporal_blend(s, w, torch.zeros_like(c), 0.9), s)
    out = temporal_blend(s, w, c, 0.6)
    expected = c * (0.6 * w + 0.4 * s) + (1 - c) * s
    assert torch.allclose(out, expected, atol=1e-6)


def test_restore_detail_gives_back_the_contrast_a_blend_of_two_textures_loses(device, dtype):
    g = torch.Generator().manual_seed(0)
    base = torch.full((1, 3, 64, 64), 0.5)
    s = (base + 0.1 * torch.randn(1, 3, 64, 64, generator=g)).to(device, dtype)  # fresh strokes
    w = (base + 0.1 * torch.randn(1, 3, 64, 64, generator=g)).to(device, dtype)  # previous, not aligned
    blended = temporal_blend(s, w, torch.ones(1, 1, 64, 64, device=device, dtype=dtype), 0.7)
    inner = (..., slice(8, -8), slice(8, -8))
    assert blended[inner].std() < 0.8 * s[inner].std()  # the blend washes strokes out
    restored = restore_detail(blended, s, radius=4)
    assert abs(restored[inner].std() / s[inner].std() - 1) < 0.15
    assert torch.allclose(restore_detail(s, s), s, atol=1e-5)  # nothing lost: unchanged
    assert torch.allclose(restored.mean(), blended.mean(), atol=1e-3)  # brightness kept


@pytest.mark.parametrize("shape,radius", [((1, 3, 37, 64), 4), ((2, 1, 7, 5), 4), ((1, 2, 1, 9), 2)])
def test_box_mean_matches_avg_pool_including_borders(shape, radius):
    from vidstyle.compose.temporal import _box

    x = torch.rand(shape) * 255
    ref = torch.nn.functional.avg_pool2d(x, 2 * radius + 1, stride=1, padding=radius, count_include_pad=False)
    assert torch.allclose(_box(x, radius), ref, atol=1e-3)
    assert _box(x.half(), radius).dtype == torch.float16


def test_state_resets_on_first_frame_and_scene_cut():
    state = TemporalState(alpha=0.8, scene_cut=0.5)
    s1, s2, s3 = (torch.rand(1, 3, 16, 16) for _ in range(3))
    flow = torch.zeros(1, 2, 8, 8)
    assert torch.equal(state.step(s1, None, None), s1)  # first frame
    out2 = state.step(s2, flow, torch.ones(1, 1, 8, 8))
    assert torch.allclose(out2, 0.8 * s1 + 0.2 * s2, atol=1e-6)  # zero flow: previous output
    assert torch.equal(state.step(s3, flow, torch.zeros(1, 1, 8, 8)), s3)  # cut: fresh start
    assert state.summary() == {"blended": 1, "scene_resets": 1, "mean_consistent": 0.5}
