"""perceptual.vgg: the one VGG16 loader (never the network)."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
import torch

from vidstyle.errors import ModelError


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
