"""models.transformer_net: the architecture, its shapes and FLOPs, conditional instance norm."""

from __future__ import annotations

import pytest
import torch

from vidstyle.models.transformer_net import ARCH_PRESETS, ArchConfig, TransformerNet, flops_per_pixel


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


def test_full_architecture_matches_johnson():
    net = TransformerNet(ARCH_PRESETS["full"])
    assert sum(p.numel() for p in net.parameters()) == 1_679_235
    assert flops_per_pixel(ARCH_PRESETS["full"]) == pytest.approx(0.3076e6, rel=1e-3)
    ratio = flops_per_pixel(ARCH_PRESETS["full"]) / flops_per_pixel(ARCH_PRESETS["small"])
    assert 3.0 < ratio < 5.0


@pytest.mark.parametrize("h,w", [(8, 8), (36, 64), (52, 20)])
def test_shape_is_preserved(h, w):
    net = TransformerNet(ArchConfig(channels=4, res_blocks=1)).eval()
    assert net(torch.rand(2, 3, h, w) * 255).shape == (2, 3, h, w)


def test_cin_one_hot_rows_select_styles():
    net = TransformerNet(ArchConfig(channels=4, res_blocks=1, num_styles=2)).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    x = torch.rand(1, 3, 16, 16) * 255
    a, b = net(x, torch.tensor([1.0, 0.0])), net(x, torch.tensor([0.0, 1.0]))
    assert not torch.allclose(a, b)
    assert torch.equal(net(x), a)  # default = style 0
