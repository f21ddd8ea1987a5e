"""Soft elliptical face masks, on any device.

A face's ellipse is centred on its box (nudged up to take in the forehead that MTCNN boxes cut),
sized ``margin`` x the box and tilted along the eye line. The mask is 1 inside, 0 outside, with a
smoothstep ramp over +-``feather`` of the normalised radius. Several faces combine by maximum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Ellipse:
    cx: float
    cy: float
    a: float        # semi-axis along the eye line (px)
    b: float        # semi-axis across it (px)
    theta: float    # eye-line angle (radians, image coordinates)


def face_ellipse(box: np.ndarray, landmarks: np.ndarray, margin: float = 1.1) -> Ellipse:
    """The ellipse of one face: box (4,) x1, y1, x2, y2 and landmarks (5, 2), in px."""
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    eyes = landmarks[1] - landmarks[0]
    theta = float(np.arctan2(eyes[1], eyes[0])) if np.hypot(*eyes) > 1e-3 else 0.0
    return Ellipse(cx=(x1 + x2) / 2, cy=(y1 + y2) / 2 - 0.06 * h,
                   a=margin * w / 2, b=margin * 1.08 * h / 2, theta=theta)


def smoothstep(edge0: float, edge1: float, x: torch.Tensor) -> torch.Tensor:
    t = ((x - edge0) / (edge1 - edge0)).clamp(0, 1)
    return t * t * (3 - 2 * t)


def ellipse_mask(size: tuple[int, int], ellipses: list[Ellipse], weights: list[float],
                 feather: float = 0.25, device: torch.device | str = "cpu",
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """1 x 1 x H x W mask: max over faces of weight x smoothstep(1 + f, 1 - f, radius)."""
    h, w = size
    mask = torch.zeros(1, 1, h, w, device=device, dtype=dtype)
    if not ellipses:
        return mask
    ys = torch.arange(h, device=device, dtype=dtype)[:, None]
    xs = torch.arange(w, device=device, dtype=dtype)[None, :]
    for e, weight in zip(ellipses, weights):
        if weight <= 0 or e.a <= 0 or e.b <= 0:
            continue
        c, s = np.cos(e.theta), np.sin(e.theta)
        dx, dy = xs - e.cx, ys - e.cy
        u = (dx * c + dy * s) / e.a
        v = (-dx * s + dy * c) / e.b
        r = torch.sqrt(u * u + v * v)
        mask[0, 0] = torch.maximum(mask[0, 0], weight * smoothstep(1 + feather, 1 - feather, r))
    return mask
