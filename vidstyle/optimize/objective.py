"""The Gatys/Ruder objective for one image: content + style + TV (+ temporal, + faces).

Units (chosen so the reference weights of manuelruder/artistic-videos keep their balance, see
docs/design.md section 8): images are 1 x 3 x H x W float in 0..255. VGG16 features (torchvision's
ImageNet normalisation) are multiplied by ``FEATURE_SCALE`` = 255 x mean ImageNet std, the factor
between torchvision's input range and caffe's 0..255 mean-subtracted one, so content/style losses
land near the magnitudes the reference's caffe VGG-19 gives.

    content  = w_c * mean (s F_l(x) - s F_l(c))^2                  (weighted inside faces)
    style    = w_s * sum_layers mean (G(s F(x)) - G(s F(p)))^2     G = F F^T / (C H W)
    tv       = w_tv * 1/2 * sum of squared neighbour differences  (neural-style's TV)
    temporal = sum_j w_t * (1/D) sum c_j (x - warp_j)^2            (Ruder's short/long-term)
    identity = w_id * mean over faces |d(x chip) - d(c chip)|^2    (face descriptors)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..config import OptimizeConfig
from ..perceptual import losses as P
from ..perceptual.vgg import IMAGENET_STD

FEATURE_SCALE = 255.0 * float(np.mean(IMAGENET_STD))


@dataclass
class TemporalTerm:
    """One earlier result warped onto this frame and where that warp is trusted.

    ``warped`` 1 x 3 x H x W (0..255), ``mask`` 1 x 1 x H x W in [0, 1]."""

    warped: torch.Tensor
    mask: torch.Tensor


@dataclass
class FaceTerms:
    """Faces of the content image: a content weight map and/or descriptor targets."""

    weight_map: torch.Tensor | None = None  # 1 x 1 x H x W, 1 outside faces
    landmarks: np.ndarray | None = None  # (F, 5, 2) px in the optimized image
    descriptors: torch.Tensor | None = None  # F x 128 of the content's faces


@dataclass
class Objective:
    """Loss of a candidate image ``x`` against fixed targets; ``terms(x)`` -> {name: scalar}."""

    vgg: torch.nn.Module
    cfg: OptimizeConfig
    content: torch.Tensor  # 1 x 3 x H x W, 0..255
    style_grams: dict[str, torch.Tensor]  # layer -> 1 x C x C
    temporal: list[TemporalTerm] = field(default_factory=list)
    temporal_weight: float = 0.0
    faces: FaceTerms | None = None
    identity_net: torch.nn.Module | None = None
    autocast: torch.dtype | None = None  # VGG forward dtype on CUDA; losses stay fp32

    def __post_init__(self):
        self.layers = sorted(set(self.cfg.style_layers) | {self.cfg.content_layer})
        with torch.no_grad():
            self.content_feat = self._features(self.content, [self.cfg.content_layer])[self.cfg.content_layer]
        self._face_map = None
        if self.faces is not None and self.faces.weight_map is not None:
            self._face_map = P.downsample_weight(self.faces.weight_map, self.content_feat)

    def _features(self, x: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        if self.autocast is not None:
            with torch.autocast(x.device.type, dtype=self.autocast):
                feats = self.vgg(x, layers)
        else:
            feats = self.vgg(x, layers)
        return {k: v.float() * FEATURE_SCALE for k, v in feats.items()}

    def terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        feats = self._features(x, self.layers)
        out = {
            "content": cfg.content_weight
            * P.content_loss(feats[cfg.content_layer], self.content_feat, self._face_map),
            "style": cfg.style_weight * P.style_loss(feats, self.style_grams),
            "tv": cfg.tv_weight * 0.5 * x[0].numel() * P.tv_loss(x),
        }
        if self.temporal and self.temporal_weight > 0:
            out["temporal"] = self.temporal_weight * _total(
                [P.masked_mse(x, t.warped, t.mask) for t in self.temporal]
            )
        f = self.faces
        if (
            self.identity_net is not None
            and f is not None
            and f.descriptors is not None
            and f.landmarks is not None
            and len(f.descriptors)
        ):
            from ..faces.align import face_chips

            chips = face_chips(x, torch.zeros(len(f.landmarks), dtype=torch.long), f.landmarks)
            out["identity"] = cfg.identity_weight * P.identity_loss(self.identity_net(chips), f.descriptors)
        return out


def _total(terms: list[torch.Tensor]) -> torch.Tensor:
    """The sum of one or more scalar tensors, in order."""
    out = terms[0]
    for term in terms[1:]:
        out = out + term
    return out


def style_grams(vgg: torch.nn.Module, painting: torch.Tensor, layers) -> dict[str, torch.Tensor]:
    """Gram targets (1 x C x C, fp32) of ``painting`` (1 x 3 x H x W, 0..255) at ``layers``."""
    with torch.no_grad():
        feats = vgg(painting, list(layers))
    return {k: P.gram(v.float() * FEATURE_SCALE) for k, v in feats.items()}
