"""stylize.base: padding to the network multiple and cropping back."""

from __future__ import annotations

import pytest
import torch

from vidstyle.stylize.base import crop_to, pad_to_multiple


@pytest.mark.parametrize("h,w", [(1, 1), (3, 5), (358, 638), (9, 13)])
def test_pad_then_crop_restores_any_size(h, w):
    x = torch.rand(1, 3, h, w)
    padded, size = pad_to_multiple(x, 4)
    assert padded.shape[-2] % 4 == 0 and padded.shape[-1] % 4 == 0 and min(padded.shape[-2:]) >= 8
    assert torch.equal(crop_to(padded, size), x)
