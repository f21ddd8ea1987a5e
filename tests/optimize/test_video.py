"""optimize.video: long-term consistency masks."""

from __future__ import annotations

import torch


def test_long_term_masks_subtract_nearer_frames():
    from vidstyle.optimize.video import long_term_masks

    near = torch.tensor([1.0, 1.0, 0.0, 0.0]).view(1, 1, 1, 4)
    far = torch.tensor([1.0, 0.0, 1.0, 0.0]).view(1, 1, 1, 4)
    a, b = long_term_masks([near, far])
    assert torch.equal(a, near)
    assert torch.equal(b, torch.tensor([0.0, 0.0, 1.0, 0.0]).view(1, 1, 1, 4))  # only what `near` misses
