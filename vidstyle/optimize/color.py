"""Luminance-only transfer (``--preserve-color``): the result's luminance, the content's chroma.

YIQ (NTSC) as neural-style's ``-original_colors``: Y = 0.299 R + 0.587 G + 0.114 B carries the
strokes, I and Q the colour. Pure functions on N x 3 x H x W float tensors, any range.
"""

from __future__ import annotations

import torch

RGB_TO_YIQ = ((0.299, 0.587, 0.114), (0.595716, -0.274453, -0.321263), (0.211456, -0.522591, 0.311135))


def _matrix(like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(RGB_TO_YIQ, dtype=torch.float64).to(like.device, torch.float32)


def rgb_to_yiq(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,njhw->nihw", _matrix(x), x.float())


def yiq_to_rgb(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,njhw->nihw", torch.linalg.inv(_matrix(x)), x.float())


def preserve_color(result: torch.Tensor, content: torch.Tensor, max_value: float = 255.0) -> torch.Tensor:
    """``result``'s Y with ``content``'s I and Q (same size), clamped to [0, ``max_value``]."""
    out = torch.cat([rgb_to_yiq(result)[:, :1], rgb_to_yiq(content)[:, 1:]], 1)
    return yiq_to_rgb(out).clamp(0, max_value)
