"""Soft elliptical face masks, on any device.

A face's ellipse is tilted along the eye line and sized from its MTCNN box so that, at
``margin`` 1, it takes in the whole face: the hair line (MTCNN boxes stop at the forehead; the
ellipse reaches ``HAIR`` x the box height above the box), the jaw and chin (``CHIN`` below the
box) and the jaw's corners (the semi-axis across is ``WIDTH`` x the box width). The mask is 1 on
the ellipse and inside it, and falls to 0 over a smoothstep ramp *outside* it: ``feather`` x the
ellipse's radius, but never less than ``MIN_RAMP_PX`` so tiny faces keep a soft edge. The ramp
never eats into the face, whatever its size. Several faces combine by maximum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

HAIR = 0.20  # share of the box height the ellipse reaches above the box (hair line)
CHIN = 0.05  # ... and below it (chin)
WIDTH = 0.62  # semi-axis across the face, share of the box width (covers the jaw corners)
MIN_RAMP_PX = 3.0  # narrowest mask edge ramp (px)


@dataclass(frozen=True)
class Ellipse:
    cx: float
    cy: float
    a: float  # semi-axis along the eye line (px)
    b: float  # semi-axis across it (px)
    theta: float  # eye-line angle (radians, image coordinates)

    def ramp(self, feather: float) -> float:
        """The edge ramp's width as a share of the radius: ``feather``, widened to MIN_RAMP_PX."""
        return max(feather, MIN_RAMP_PX / max(min(self.a, self.b), 1e-3))

    def extent(self, feather: float) -> float:
        """Half side (px) of a square around the centre that holds the mask with its ramp."""
        return max(self.a, self.b) * (1 + self.ramp(feather)) + 1

    def shifted(self, dx: float, dy: float) -> Ellipse:
        return Ellipse(self.cx + dx, self.cy + dy, self.a, self.b, self.theta)


def face_ellipse(box: np.ndarray, landmarks: np.ndarray, margin: float = 1.0) -> Ellipse:
    """The ellipse of one face: box (4,) x1, y1, x2, y2 and landmarks (5, 2), in px."""
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    eyes = landmarks[1] - landmarks[0]
    theta = float(np.arctan2(eyes[1], eyes[0])) if np.hypot(*eyes) > 1e-3 else 0.0
    top, bottom = y1 - HAIR * h, y2 + CHIN * h
    return Ellipse(
        cx=(x1 + x2) / 2,
        cy=(top + bottom) / 2,
        a=margin * WIDTH * w,
        b=margin * (bottom - top) / 2,
        theta=theta,
    )


def smoothstep(edge0: float, edge1: float, x: torch.Tensor) -> torch.Tensor:
    t = ((x - edge0) / (edge1 - edge0)).clamp(0, 1)
    return t * t * (3 - 2 * t)


def _one(e: Ellipse, ys: torch.Tensor, xs: torch.Tensor, feather: float) -> torch.Tensor:
    """The unweighted mask of ``e`` on the pixel grid ``ys`` (h x 1), ``xs`` (1 x w)."""
    c, s = math.cos(e.theta), math.sin(e.theta)
    dx, dy = xs - e.cx, ys - e.cy
    u = (dx * c + dy * s) / e.a
    v = (-dx * s + dy * c) / e.b
    return smoothstep(1 + e.ramp(feather), 1.0, torch.sqrt(u * u + v * v))


def ellipse_masks(
    size: tuple[int, int],
    ellipses: list[Ellipse],
    weights: list[float],
    values: list[float] | None = None,
    feather: float = 0.25,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(mask, value map), both 1 x 1 x H x W.

    mask = max over faces of weight x ramp; value map (when ``values`` is given, one per face) =
    the faces' values averaged with their weighted masks as weights (0 where no face reaches).
    Each face is computed only on the square that holds it, so crowds of small faces stay cheap.
    """
    h, w = size
    mask = torch.zeros(1, 1, h, w, device=device, dtype=dtype)
    num = torch.zeros_like(mask) if values is not None else None
    den = torch.zeros_like(mask) if values is not None else None
    for i, (e, weight) in enumerate(zip(ellipses, weights)):
        if weight <= 0 or e.a <= 0 or e.b <= 0:
            continue
        half = e.extent(feather)
        x1, x2 = max(0, int(e.cx - half)), min(w, int(math.ceil(e.cx + half)) + 1)
        y1, y2 = max(0, int(e.cy - half)), min(h, int(math.ceil(e.cy + half)) + 1)
        if x2 <= x1 or y2 <= y1:
            continue
        ys = torch.arange(y1, y2, device=device, dtype=dtype)[:, None]
        xs = torch.arange(x1, x2, device=device, dtype=dtype)[None, :]
        m = weight * _one(e, ys, xs, feather)
        mask[0, 0, y1:y2, x1:x2] = torch.maximum(mask[0, 0, y1:y2, x1:x2], m)
        if values is not None and num is not None and den is not None:
            num[0, 0, y1:y2, x1:x2] += m * float(values[i])
            den[0, 0, y1:y2, x1:x2] += m
    if num is None or den is None:
        return mask, None
    return mask, torch.where(den > 0, num / den.clamp_min(1e-12), torch.zeros_like(den))


def ellipse_mask(
    size: tuple[int, int],
    ellipses: list[Ellipse],
    weights: list[float],
    feather: float = 0.25,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """1 x 1 x H x W mask: max over faces of weight x the face's ramp (see the module doc)."""
    return ellipse_masks(size, ellipses, weights, None, feather, device, dtype)[0]
