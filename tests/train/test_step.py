"""train.step: the update of one step: the total and its refusal of non-finite losses, loss
scaling, clipping."""

from __future__ import annotations

import pytest
import torch

from vidstyle.errors import VidstyleError
from vidstyle.train.step import total_loss, update


def test_total_adds_the_terms_and_refuses_a_non_finite_one():
    terms = {"content": torch.tensor(1.5), "style": torch.tensor(2.0), "tv": torch.tensor(0.25)}
    assert float(total_loss(terms, step=0)) == 3.75
    with pytest.raises(VidstyleError, match=r"loss became inf at step 7 \(content=1.5, style=inf\)"):
        total_loss({"content": torch.tensor(1.5), "style": torch.tensor(float("inf"))}, step=7)


def test_update_steps_the_optimizer_and_clips_the_gradient():
    net = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        net.weight.zero_()
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    x = torch.tensor([[3.0, 4.0]])
    update(-(net(x).sum()), net, opt, None, grad_clip=0.0)  # gradient -(3, 4): one full step
    assert torch.equal(net.weight, torch.tensor([[3.0, 4.0]]))
    update(-(net(x).sum()), net, opt, None, grad_clip=1.0)  # clipped to norm 1: (0.6, 0.8)
    assert torch.allclose(net.weight, torch.tensor([[3.6, 4.8]]))
