"""--debug-faces: the face masks tinted green, tracked boxes and landmarks drawn on the output."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from .tracker import Track

TINT = (0.1, 0.9, 0.2)


def tint_mask(image: torch.Tensor, mask: torch.Tensor, amount: float = 0.35) -> torch.Tensor:
    """3 x H x W image with ``amount`` x mask (1 x H x W) of green mixed in."""
    green = torch.tensor(TINT, device=image.device, dtype=image.dtype).view(3, 1, 1)
    return image + amount * mask * (green - image)


def draw_tracks(rgb: np.ndarray, tracks: list[Track]) -> np.ndarray:
    """Boxes (with id and visibility) and the five landmarks, drawn in place on H x W x 3 uint8."""
    thick = max(1, round(max(rgb.shape[:2]) / 400))
    for t in tracks:
        x1, y1, x2, y2 = (int(round(v)) for v in t.box)
        colour = (255, 220, 0) if t.missed == 0 else (255, 120, 0)
        cv2.rectangle(rgb, (x1, y1), (x2, y2), colour, thick, cv2.LINE_AA)
        cv2.putText(
            rgb,
            f"#{t.id} {t.visibility:.2f}",
            (x1, max(12, y1 - 4)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4 * thick,
            colour,
            thick,
            cv2.LINE_AA,
        )
        for x, y in t.landmarks:
            cv2.circle(rgb, (int(round(x)), int(round(y))), 2 * thick, (255, 0, 255), -1, cv2.LINE_AA)
    return rgb
