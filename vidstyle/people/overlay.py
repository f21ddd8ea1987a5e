"""--debug-people: each person's mask tinted in its own colour, outlined, and labelled with its id."""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .instances import ANONYMOUS
from .tracker import PersonMasks

PALETTE = [
    (230, 25, 75),
    (60, 180, 75),
    (255, 225, 25),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
]


def colour_of(pid: int) -> tuple[int, int, int]:
    return (200, 200, 200) if pid == ANONYMOUS else PALETTE[(pid - 1) % len(PALETTE)]


def tint_people(image: torch.Tensor, people: PersonMasks, amount: float = 0.35) -> torch.Tensor:
    """3 x h x w image with each person's soft mask mixed towards its colour by ``amount``."""
    if not people.ids:
        return image
    masks = torch.from_numpy(people.masks).to(image.device, image.dtype)
    up = F.interpolate(masks[None], size=image.shape[-2:], mode="bilinear", align_corners=False)[0]
    colours = torch.tensor([colour_of(p) for p in people.ids], device=image.device, dtype=image.dtype) / 255
    tint = torch.einsum("phw,pc->chw", up, colours)
    cover = up.sum(0, keepdim=True).clamp(0, 1)
    return image + amount * (tint - cover * image)


def draw_people(rgb: np.ndarray, people: PersonMasks) -> np.ndarray:
    """Outline each person's region and print its id, in place on H x W x 3 uint8."""
    h, w = rgb.shape[:2]
    sy, sx = h / people.shape[0], w / people.shape[1]
    thick = max(1, round(max(h, w) / 400))
    big = cv2.resize(people.labels, (w, h), interpolation=cv2.INTER_NEAREST)
    for pid in people.ids:
        region = (big == pid).astype(np.uint8)
        if not region.any():
            continue
        contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        colour = colour_of(pid)
        cv2.drawContours(rgb, contours, -1, colour, thick, cv2.LINE_AA)
        ax, ay = people.anchors.get(pid, (0.0, 0.0))
        text = "?" if pid == ANONYMOUS else f"P{pid}"
        org = (int(np.clip(ax * sx, 0, w - 30)), int(np.clip(ay * sy - 6, 14, h - 4)))
        cv2.putText(rgb, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.6 * thick, (0, 0, 0), 3 * thick, cv2.LINE_AA)
        cv2.putText(rgb, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.6 * thick, colour, thick, cv2.LINE_AA)
    return rgb
