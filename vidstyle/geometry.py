"""Image-size arithmetic shared by every layer: scaling a frame so its long side fits a limit."""

from __future__ import annotations


def long_side_scale(h: int, w: int, long_side: int) -> float:
    """The factor that brings the longer of ``h`` x ``w`` down to ``long_side`` px: at most 1
    (never enlarges); 1 when ``long_side`` is 0 or the frame already fits."""
    if long_side <= 0 or max(h, w) <= long_side:
        return 1.0
    return long_side / max(h, w)


def fit_long_side(h: int, w: int, long_side: int, min_side: int = 1) -> tuple[int, int]:
    """(H', W') scaled by :func:`long_side_scale` (aspect kept, rounded), each at least
    ``min_side`` px; (h, w) unchanged when nothing needs scaling."""
    scale = long_side_scale(h, w, long_side)
    if scale == 1.0:
        return h, w
    return max(min_side, round(h * scale)), max(min_side, round(w * scale))
