"""How much of a painting's style an output carries: VGG16 Gram distance to the painting.

    d(x) = sum_l |G_l(x) - G_l(painting)|^2_F      (relu1_2, relu2_2, relu3_3, relu4_3)

with ``G_l = F F^T / (C H W)`` (the training loss's Gram) and the painting resized so its long side
equals the frame's. The headline number is the *ratio* ``d(stylized) / d(original)``: how far the
network moved the frame towards the painting (0 = the painting's statistics, 1 = none at all).
Frames are H x W x 3 uint8 RGB.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from ..io.imagefile import open_image
from ..perceptual.losses import gram
from ..perceptual.vgg import load_vgg


class GramMeter:
    """Gram distance of frames to one painting; the painting's Grams are cached per frame size."""

    def __init__(self, vgg_weights: str | Path | None, style_image: str | Path | np.ndarray):
        self.vgg = load_vgg(vgg_weights).eval()
        if isinstance(style_image, np.ndarray):
            self.style = style_image
        else:
            with open_image(style_image) as im:  # the shared opener: one-line answer to a bomb
                self.style = np.asarray(im.convert("RGB"))
        self._targets: dict[int, dict[str, torch.Tensor]] = {}

    def _grams(self, rgb: np.ndarray) -> dict[str, torch.Tensor]:
        t = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float()
        with torch.inference_mode():
            feats = self.vgg(t)
        return {k: gram(v) for k, v in feats.items()}

    def distance(self, rgb: np.ndarray) -> float:
        side = max(rgb.shape[:2])
        if side not in self._targets:
            h, w = self.style.shape[:2]
            s = side / max(h, w)
            self._targets[side] = self._grams(
                cv2.resize(self.style, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
            )
        grams = self._grams(rgb)
        return float(sum(((grams[k] - self._targets[side][k]) ** 2).sum() for k in grams))

    def ratio(self, original: np.ndarray, stylized: np.ndarray) -> float:
        """``d(stylized) / d(original)``: below 1 means the output moved towards the painting."""
        return self.distance(stylized) / self.distance(original)
