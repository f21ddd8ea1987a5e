"""Gatys et al.'s optimization for one image: targets, start images, coarse-to-fine, faces.

:class:`Gatys` holds what stays fixed across the frames of a job (VGG, the painting, the face
networks) and optimizes one content image at a time. Images are 1 x 3 x H x W float, 0..255.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..config import OptimizeConfig
from ..errors import ConfigError, VidstyleError
from ..log import log
from ..perceptual.vgg import IMAGENET_MEAN
from ..sysinfo import available_memory
from .objective import FaceTerms, Objective, TemporalTerm, style_grams
from .solver import SolveResult, minimize

# Peak memory per optimized pixel, fp32 (an estimate from VGG16's activations up to relu4_3,
# saved for backward and their gradients, ~1.3 kB each, plus L-BFGS's 2 x history x 3 floats).
BYTES_PER_PIXEL = 3400
LBFGS_BYTES_PER_PIXEL_PER_STEP = 24


def to_batch(rgb: np.ndarray, device) -> torch.Tensor:
    """H x W x 3 uint8 -> 1 x 3 x H x W float 0..255 on ``device``."""
    return torch.tensor(np.asarray(rgb), device=device).permute(2, 0, 1)[None].float()


def resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of N x C x H x W (antialiased when shrinking)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=size[0] < x.shape[-2])


def pyramid(size: tuple[int, int], coarse_side: int) -> list[tuple[int, int]]:
    """Sizes from coarse to fine: halved while the long side exceeds ``coarse_side``."""
    sizes = [size]
    while coarse_side and max(sizes[0]) > coarse_side and min(sizes[0]) >= 64:
        h, w = sizes[0]
        sizes.insert(0, (max(16, h // 2), max(16, w // 2)))
    return sizes


def noise_image(shape, seed: int, device) -> torch.Tensor:
    """The ImageNet mean colour plus Gaussian noise (std 16 grey levels), 0..255."""
    gen = torch.Generator().manual_seed(seed)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255
    return (mean + 16.0 * torch.randn(shape, generator=gen)).clamp(0, 255).to(device)


def check_memory(h: int, w: int, cfg: OptimizeConfig, device: torch.device, share: float = 0.8) -> None:
    """Raise a one-line error when optimizing an h x w image would not fit in memory."""
    per_px = BYTES_PER_PIXEL + (
        LBFGS_BYTES_PER_PIXEL_PER_STEP * cfg.history if cfg.optimizer == "lbfgs" else 24
    )
    need = h * w * per_px
    free = available_memory(device)
    if need > free * share:
        where = "GPU" if device.type == "cuda" else "RAM"
        raise VidstyleError(
            f"optimizing {w}x{h} needs about {_size(need)}, {_size(free)} of {where} "
            f"is free: lower --size"
            + (" or use --optimizer adam (no L-BFGS history)" if cfg.optimizer == "lbfgs" else "")
        )


def _size(n: float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


class Gatys:
    """Fixed parts of an optimization job; :meth:`solve` optimizes one content image."""

    def __init__(
        self,
        cfg: OptimizeConfig,
        vgg: torch.nn.Module,
        painting: np.ndarray,
        device: torch.device,
        identity_net: torch.nn.Module | None = None,
        detector=None,
    ):
        self.cfg = cfg
        self.device = device
        self.vgg = vgg.to(device).eval().requires_grad_(False)
        self.painting = to_batch(painting, "cpu")
        self.identity_net = identity_net.to(device).eval() if identity_net is not None else None
        self.detector = detector
        self.autocast = self._autocast_dtype()
        self._grams: dict[tuple[int, int], dict] = {}

    def _autocast_dtype(self) -> torch.dtype | None:
        p, dev = self.cfg.precision, self.device
        if dev.type != "cuda" or p == "fp32":
            if p in ("fp16", "bf16") and dev.type != "cuda":
                log.warning(f"precision {p} applies on CUDA only; optimizing in fp32 on the CPU")
            return None
        if p == "fp16":
            return torch.float16
        if p == "bf16" or torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return None

    def grams(self, size: tuple[int, int]) -> dict[str, torch.Tensor]:
        """Style targets for an optimized image of ``size``: the painting at ``style_scale`` x its
        long side."""
        if size not in self._grams:
            ph, pw = self.painting.shape[-2:]
            s = max(16, self.cfg.style_scale * max(size)) / max(ph, pw)  # may enlarge, as asked
            painting = resize(self.painting, (max(16, round(ph * s)), max(16, round(pw * s))))
            painting = painting.to(self.device)
            self._grams[size] = style_grams(self.vgg, painting, self.cfg.style_layers)
        return self._grams[size]

    # ---------------------------------------------------------------- faces
    def face_terms(self, content_rgb: np.ndarray) -> FaceTerms | None:
        """MTCNN faces of the content (uint8 H x W x 3 at the optimized size) as loss targets."""
        mode = self.cfg.faces
        if mode == "off" or self.detector is None:
            return None
        faces = self.detector.detect([content_rgb])[0]
        if not len(faces):
            return FaceTerms()
        terms = FaceTerms(landmarks=faces.landmarks)
        h, w = content_rgb.shape[:2]
        if mode in ("weighted", "both"):
            from ..faces.masks import ellipse_mask, face_ellipse

            ellipses = [face_ellipse(b, lm) for b, lm in zip(faces.boxes, faces.landmarks)]
            mask = ellipse_mask((h, w), ellipses, [1.0] * len(ellipses), device=self.device)
            terms.weight_map = 1.0 + self.cfg.face_weight * mask
        if mode in ("identity", "both") and self.identity_net is not None:
            from ..faces.align import face_chips

            with torch.no_grad():
                x = to_batch(content_rgb, self.device)
                chips = face_chips(x, torch.zeros(len(faces), dtype=torch.long), faces.landmarks)
                terms.descriptors = self.identity_net(chips)
        return terms

    # ---------------------------------------------------------------- solve
    def solve(
        self,
        content: torch.Tensor,
        init: torch.Tensor,
        iters: int,
        temporal: list[TemporalTerm] | None = None,
        temporal_weight: float = 0.0,
        faces: FaceTerms | None = None,
        on_iter: Callable[[int, dict], None] | None = None,
    ) -> SolveResult:
        """Optimize from ``init`` towards ``content``'s content and the painting's style,
        coarse to fine when the image is longer than ``coarse_side``."""
        size = (content.shape[-2], content.shape[-1])

        def at(level: tuple[int, int], x: torch.Tensor) -> SolveResult:
            scale = level[0] / size[0]
            objective = Objective(
                self.vgg,
                self.cfg,
                resize(content, level),
                self.grams(level),
                temporal=[
                    TemporalTerm(resize(t.warped, level), resize(t.mask, level)) for t in temporal or []
                ],
                temporal_weight=temporal_weight,
                faces=_scaled_faces(faces, level, scale),
                identity_net=self.identity_net,
                autocast=self.autocast,
            )
            return minimize(objective, resize(x, level), iters, self.cfg, on_iter)

        # memory: checked once per job at full size (check_memory)
        *coarse, full = pyramid(size, self.cfg.coarse_side)
        x = init
        for level in coarse:
            x = at(level, x).image
        return at(full, x)


def _scaled_faces(faces: FaceTerms | None, size: tuple[int, int], scale: float) -> FaceTerms | None:
    if faces is None or scale == 1.0:
        return faces
    return FaceTerms(
        weight_map=resize(faces.weight_map, size) if faces.weight_map is not None else None,
        landmarks=(faces.landmarks * scale + 0.5 * (scale - 1)) if faces.landmarks is not None else None,
        descriptors=faces.descriptors,
    )


def load_identity(cfg: OptimizeConfig):
    """The face descriptor network when the face mode needs it (one-line error without weights)."""
    if cfg.faces not in ("identity", "both"):
        return None
    if not cfg.identity_weights:
        raise ConfigError(
            "--faces identity needs the face descriptor network: --identity-weights PATH "
            "(or --faces weighted)"
        )
    from ..faces.identity import load_identity_net

    return load_identity_net(Path(cfg.identity_weights).expanduser())
