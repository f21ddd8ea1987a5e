"""optimize.color: colour preservation in YIQ."""

from __future__ import annotations

import torch


def test_preserve_color_keeps_content_chroma_and_result_luma():
    from vidstyle.optimize.color import preserve_color, rgb_to_yiq

    gen = torch.Generator().manual_seed(0)
    content = torch.rand(1, 3, 8, 8, generator=gen) * 100 + 80
    result = torch.rand(1, 3, 8, 8, generator=gen) * 100 + 80
    out = preserve_color(result, content)
    assert torch.allclose(rgb_to_yiq(out)[:, 0], rgb_to_yiq(result)[:, 0], atol=1e-3)
    assert torch.allclose(rgb_to_yiq(out)[:, 1:], rgb_to_yiq(content)[:, 1:], atol=1e-3)
