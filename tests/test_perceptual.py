"""Perceptual losses against hand-computed values, and the one VGG16 loader (never the network)."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
import torch

from vidstyle.errors import ModelError
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


def test_vgg_loads_state_dict_strictly(tmp_path):
    import torch.nn.functional as F

    from vidstyle.perceptual.vgg import JOHNSON_LAYERS, load_vgg, vgg16_features

    torch.manual_seed(0)
    state = vgg16_features().state_dict()
    assert len(state) == 20 and "21.bias" in state  # torchvision's key layout
    path = tmp_path / "vgg.pth"
    torch.save(state, path)
    net = load_vgg(path)
    x = torch.rand(1, 3, 32, 32) * 255
    feats = net(x)
    assert list(feats) == list(JOHNSON_LAYERS)
    assert feats["relu4_3"].shape == (1, 512, 4, 4)
    # relu2_2 by hand: ImageNet normalisation, conv-relu-conv-relu-pool-conv-relu-conv-relu
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    h = (x / 255 - mean) / std
    for i in (0, 2, "pool", 5, 7):
        h = (
            F.max_pool2d(h, 2)
            if i == "pool"
            else F.relu(F.conv2d(h, state[f"{i}.weight"], state[f"{i}.bias"], padding=1))
        )
    assert torch.allclose(feats["relu2_2"], h, atol=1e-4)
    assert net(x, ["relu1_2"]).keys() == {"relu1_2"}
    torch.save({"0.weight": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(ModelError, match="not VGG16"):
        load_vgg(tmp_path / "bad.pth")
    with pytest.raises(ModelError, match="not found"):
        load_vgg(tmp_path / "missing.pth")


def test_masked_mse_hand_computed():
    x = torch.zeros(1, 2, 1, 2)
    t = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 2, 1, 2)
    m = torch.tensor([1.0, 0.0]).view(1, 1, 1, 2)  # only the first column counts
    assert L.masked_mse(x, t, m).item() == pytest.approx((1 + 9) / 4)


def test_vgg_accepts_torchvision_checkpoint_layout(tmp_path):
    from vidstyle.perceptual.vgg import load_vgg, vgg16_features

    torch.manual_seed(0)
    state = {f"features.{k}": v for k, v in vgg16_features().state_dict().items()}
    state["features.24.weight"] = torch.zeros(1)  # later layers are ignored
    state["classifier.0.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "vgg16-full.pth")
    net = load_vgg(tmp_path / "vgg16-full.pth", layers=("relu1_1", "relu4_2"))
    feats = net(torch.rand(1, 3, 32, 32) * 255)
    assert feats["relu1_1"].shape == (1, 64, 32, 32) and feats["relu4_2"].shape == (1, 512, 4, 4)
    assert torch.equal(net.features[0].weight, state["features.0.weight"])


def _offline(monkeypatch, tmp_path):
    """An empty torch cache and a network that refuses every URL."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "torch_home" / "hub"))

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable (blocked in tests)")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(torch.hub, "urlopen", refuse)  # torch.hub imported it by name


def test_vgg_without_file_offline_says_how_to_supply_it(monkeypatch, tmp_path):
    from vidstyle.perceptual.vgg import load_vgg

    _offline(monkeypatch, tmp_path)
    with pytest.raises(ModelError) as err:
        load_vgg(None)
    msg = str(err.value)
    assert "\n" not in msg and "--vgg-weights FILE" in msg and "network is unreachable" in msg
    assert "shared" not in msg  # no development-only path


def test_vgg_without_file_uses_torchvision_cache(monkeypatch, tmp_path):
    """A checkpoint already in torchvision's cache loads without any network access."""
    from vidstyle.perceptual.vgg import TORCHVISION_FILE, load_vgg, vgg16_features

    _offline(monkeypatch, tmp_path)
    torch.manual_seed(1)
    state = {f"features.{k}": v for k, v in vgg16_features().state_dict().items()}
    cache = tmp_path / "torch_home" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.save(state, cache / TORCHVISION_FILE)
    net = load_vgg(None)
    assert torch.equal(net.features[2].weight, state["features.2.weight"])
