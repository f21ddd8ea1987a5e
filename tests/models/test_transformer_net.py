"""models.transformer_net: conditional instance norm."""

from __future__ import annotations

import torch


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
