"""perceptual.losses against hand-computed values."""

from __future__ import annotations

import pytest
import torch

from vidstyle.perceptual import losses as L


def test_gram_hand_computed():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 1, 2)  # C=2, H=1, W=2
    # F F^T = [[5, 11], [11, 25]], divided by C*H*W = 4
    assert torch.equal(L.gram(f), torch.tensor([[[1.25, 2.75], [2.75, 6.25]]]))


def test_style_loss_is_mean_squared_gram_difference_summed_over_layers():
    f1 = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 1, 2)
    f2 = torch.tensor([2.0, 0.0, 0.0, 0.0]).view(1, 1, 2, 2)  # C=1: G = 4 / 4 = 1
    targets = {"a": torch.zeros(1, 2, 2), "b": torch.full((1, 1, 1), 3.0)}
    got = L.style_loss({"a": f1, "b": f2}, targets)
    want = (1.25**2 + 2 * 2.75**2 + 6.25**2) / 4 + (1.0 - 3.0) ** 2
    assert got.item() == pytest.approx(want)


def test_style_loss_picks_each_samples_target():
    feats = torch.randn(2, 3, 4, 4)
    targets = L.gram(feats)  # per-sample targets: exact match
    assert L.style_loss({"x": feats}, {"x": targets}).item() == pytest.approx(0.0, abs=1e-12)
    swapped = targets.flip(0)
    assert L.style_loss({"x": feats}, {"x": swapped}).item() > 0


def test_style_loss_sample_weight_scales_each_samples_term():
    feats = torch.randn(2, 3, 4, 4)
    targets = torch.zeros(2, 3, 3)
    each = [L.style_loss({"x": feats[i : i + 1]}, {"x": targets[i : i + 1]}).item() for i in range(2)]
    got = L.style_loss({"x": feats}, {"x": targets}, torch.tensor([1.0, 3.0])).item()
    assert got == pytest.approx((each[0] + 3 * each[1]) / 2, rel=1e-5)
    assert L.style_loss({"x": feats}, {"x": targets}, torch.ones(2)).item() == pytest.approx(
        L.style_loss({"x": feats}, {"x": targets}).item(), rel=1e-6
    )


def test_content_loss_plain_and_weighted():
    a = torch.zeros(1, 2, 2, 2)
    b = torch.zeros(1, 2, 2, 2)
    b[0, :, 0, 0] = 2.0  # one position differs by 2 in 2 channels
    assert L.content_loss(a, b).item() == pytest.approx(2 * 4 / 8)
    w = torch.zeros(1, 1, 2, 2)
    assert L.content_loss(a, b, w).item() == 0.0  # weight 0 at the differing position
    w[0, 0, 0, 0] = 3.0
    assert L.content_loss(a, b, w).item() == pytest.approx(3 * 2 * 4 / 8)


def test_tv_loss_hand_computed():
    y = torch.tensor([[0.0, 1.0], [3.0, 5.0]]).view(1, 1, 2, 2)
    # vertical: (3-0)^2, (5-1)^2 -> mean 12.5; horizontal: (1-0)^2, (5-3)^2 -> mean 2.5
    assert L.tv_loss(y).item() == pytest.approx(15.0)
    assert L.tv_loss(torch.full((1, 3, 4, 4), 7.0)).item() == 0.0


def test_identity_loss():
    a = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    b = torch.tensor([[3.0, 4.0], [1.0, 1.0]])
    assert L.identity_loss(a, b).item() == pytest.approx(25.0 / 2)
    assert L.identity_loss(a[:0], b[:0]).item() == 0.0


def test_masked_mse_hand_computed():
    x = torch.zeros(1, 2, 1, 2)
    t = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 2, 1, 2)
    m = torch.tensor([1.0, 0.0]).view(1, 1, 1, 2)  # only the first column counts
    assert L.masked_mse(x, t, m).item() == pytest.approx((1 + 9) / 4)
