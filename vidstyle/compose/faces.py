"""Keep faces recognisable: per-frame face regions from tracked detections, and three ways of
putting the face back (all tensor math on the pipeline's device, 1 x 3 x H x W in [0, 1]).

    blend    face = lerp(original, stylized, s)
    luma     stylized colours and tone, the original's luminance detail:
             Y = lerp(blur(Y_s) + Y_o - blur(Y_o), Y_s, s), Cb/Cr from the stylized frame
    restyle  the face crop stylized again at a larger scale (finer strokes than the features),
             face = lerp(original, restyled, s)

then out = lerp(stylized, face, mask), with the soft elliptical mask of the tracked faces.
``s`` (strength) is how much of the style stays inside the face: one number, or with ``auto``
one per face from its height at stylization resolution (:mod:`vidstyle.faces.strength`), painted
into a strength map that follows the masks. ``restyle`` upscales each face crop so the face is at
least ``RESTYLE_STROKES`` strokes high (at least ``restyle_scale`` x) before stylizing it.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..config import FacesConfig
from ..faces.detector import Faces
from ..faces.masks import Ellipse, ellipse_masks, face_ellipse
from ..faces.strength import size_strength
from ..faces.tracker import FaceTracker, Track

DEFAULT_STRENGTH = {"blend": 0.35, "luma": 0.35, "restyle": 1.0}
RESTYLE_STROKES = 20.0  # restyle: the face crop is stylized with the face at least this many strokes high


def resolve_strength(cfg: FacesConfig) -> float:
    """The strength of a face large enough to keep it all (``auto``: the mode's default)."""
    return DEFAULT_STRENGTH.get(cfg.mode, 0.35) if cfg.strength == "auto" else float(cfg.strength)


def ramp_strokes(cfg: FacesConfig) -> tuple[float, float]:
    n0, n1 = (float(v) for v in cfg.ramp_strokes.split(","))
    return n0, n1


def face_strengths(cfg: FacesConfig, face_px: list[float]) -> list[float]:
    """One strength per face ``face_px`` high (box height, px at stylization resolution)."""
    s_max = resolve_strength(cfg)
    if cfg.strength != "auto" or cfg.mode == "restyle":
        return [s_max] * len(face_px)
    n0, n1 = ramp_strokes(cfg)
    return [float(v) for v in np.atleast_1d(size_strength(face_px, s_max, cfg.stroke_px, n0, n1))]


def rgb_to_ycbcr(x: torch.Tensor) -> torch.Tensor:
    """Full-range BT.601, channels (Y, Cb, Cr) with Cb, Cr centred on 0."""
    r, g, b = x.unbind(1)
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return torch.stack([y, 0.564 * (b - y), 0.713 * (r - y)], 1)


def ycbcr_to_rgb(x: torch.Tensor) -> torch.Tensor:
    y, cb, cr = x.unbind(1)
    return torch.stack([y + 1.403 * cr, y - 0.344 * cb - 0.714 * cr, y + 1.773 * cb], 1)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of N x C x H x W (reflect padding)."""
    radius = max(1, int(math.ceil(3 * sigma)))
    radius = min(radius, x.shape[-1] - 1, x.shape[-2] - 1)
    if radius < 1:
        return x
    t = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    k = torch.exp(-(t * t) / (2 * sigma * sigma))
    k = k / k.sum()
    c = x.shape[1]
    x = F.conv2d(
        F.pad(x, (radius, radius, 0, 0), mode="reflect"), k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c
    )
    return F.conv2d(
        F.pad(x, (0, 0, radius, radius), mode="reflect"), k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c
    )


def _region(ellipses: list[Ellipse], feather: float, h: int, w: int) -> tuple[int, int, int, int]:
    """(y1, y2, x1, x2) covering every ellipse with its feathered edge, clamped to the frame."""
    y1, y2, x1, x2 = h, 0, w, 0
    for e in ellipses:
        half = e.extent(feather) + 3
        x1, x2 = min(x1, int(e.cx - half)), max(x2, int(math.ceil(e.cx + half)))
        y1, y2 = min(y1, int(e.cy - half)), max(y2, int(math.ceil(e.cy + half)))
    x1, y1 = max(0, x1), max(0, y1)
    return y1, max(y1 + 1, min(h, y2)), x1, max(x1 + 1, min(w, x2))


def blur_coarse(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """A wide Gaussian blur computed on a downsampled copy (same result to the eye, far cheaper)."""
    k = int(sigma // 3)
    if k < 2 or min(x.shape[-2:]) < 2 * k:
        return gaussian_blur(x, sigma)
    small = gaussian_blur(F.avg_pool2d(x, k, ceil_mode=True), sigma / k)
    return F.interpolate(small, size=x.shape[-2:], mode="bilinear", align_corners=False)


def blend_face(original: torch.Tensor, stylized: torch.Tensor, strength: float) -> torch.Tensor:
    return original + strength * (stylized - original)


def luma_face(original: torch.Tensor, stylized: torch.Tensor, strength: float, sigma: float) -> torch.Tensor:
    yo, ys = rgb_to_ycbcr(original), rgb_to_ycbcr(stylized)
    y_detail = blur_coarse(ys[:, :1], sigma) + yo[:, :1] - blur_coarse(yo[:, :1], sigma)
    y = y_detail + strength * (ys[:, :1] - y_detail)
    return ycbcr_to_rgb(torch.cat([y, ys[:, 1:]], 1)).clamp(0, 1)


def update_tracks(
    tracker: FaceTracker, frame_hw: tuple[int, int], detections: Faces | None, flow_bw: torch.Tensor | None
) -> list[Track]:
    """One tracker step, moving the tracks along ``flow_bw`` (1 x 2 x hf x wf, t -> t-1)."""
    motion, motion_scale = None, 1.0
    if flow_bw is not None:
        motion = (-flow_bw[0]).permute(1, 2, 0).cpu().numpy()
        motion_scale = frame_hw[1] / flow_bw.shape[-1]
    return tracker.update(detections, motion, motion_scale)


class FacePreserver:
    """Tracks faces across frames and composes the face regions back into the stylized frame."""

    def __init__(self, cfg: FacesConfig, stylizer=None):
        self.cfg = cfg
        self.mode = cfg.mode
        self.strength = resolve_strength(cfg)
        self.stylizer = stylizer
        self.tracker = FaceTracker(cfg.iou_match, cfg.smoothing, cfg.fade_frames, cfg.hold)
        self.frames_with_faces = 0
        self.max_faces = 0
        self.strength_min, self.strength_max = math.inf, -math.inf

    def track(
        self, frame_hw: tuple[int, int], detections: Faces | None, flow_bw: torch.Tensor | None
    ) -> list[Track]:
        """Advance the face tracks one frame; the visible ones (frame px)."""
        return update_tracks(self.tracker, frame_hw, detections, flow_bw)

    def apply(
        self,
        stylized: torch.Tensor,
        original: torch.Tensor,
        frame_hw: tuple[int, int],
        detections: Faces | None,
        flow_bw: torch.Tensor | None,
        tracks: list[Track] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None, list[Track]]:
        """(output, mask or None, visible tracks) for one frame at stylization resolution.
        ``tracks``: this frame's tracks when :meth:`track` was already called for it."""
        if tracks is None:
            tracks = self.track(frame_hw, detections, flow_bw)
        if not tracks:
            return stylized, None, []
        self.frames_with_faces += 1
        self.max_faces = max(self.max_faces, len(tracks))
        h, w = stylized.shape[-2:]
        sx = w / frame_hw[1]
        ellipses = [face_ellipse(t.box * sx, t.landmarks * sx, self.cfg.margin) for t in tracks]
        face_px = [float(t.box[3] - t.box[1]) * sx for t in tracks]
        strengths = face_strengths(self.cfg, face_px)
        self._note(strengths)
        # all the work happens inside the faces' bounding region, not over the whole frame
        y1, y2, x1, x2 = _region(ellipses, self.cfg.feather, h, w)
        local = [e.shifted(-x1, -y1) for e in ellipses]
        uniform = max(strengths) - min(strengths) < 1e-6
        mask, strength_map = ellipse_masks(
            (y2 - y1, x2 - x1),
            local,
            [t.visibility for t in tracks],
            None if uniform else strengths,
            self.cfg.feather,
            stylized.device,
            stylized.dtype,
        )
        strength = strengths[0] if uniform else strength_map
        s_crop, o_crop = stylized[..., y1:y2, x1:x2], original[..., y1:y2, x1:x2]
        face = self._face(s_crop, o_crop, local, face_px, strength)
        out = stylized.clone()
        out[..., y1:y2, x1:x2] = s_crop + mask * (face - s_crop)
        full_mask = F.pad(mask, (x1, w - x2, y1, h - y2))
        return out, full_mask, tracks

    def _note(self, strengths: list[float]) -> None:
        self.strength_min = min(self.strength_min, min(strengths))
        self.strength_max = max(self.strength_max, max(strengths))

    def _face(
        self,
        stylized: torch.Tensor,
        original: torch.Tensor,
        ellipses: list[Ellipse],
        face_px: list[float],
        strength,
    ) -> torch.Tensor:
        """The face to put back; ``strength``: a number or a 1 x 1 x h x w map."""
        if self.mode == "blend":
            return blend_face(original, stylized, strength)
        if self.mode == "luma":
            size = float(np.mean([e.b for e in ellipses]))
            return luma_face(original, stylized, strength, sigma=max(1.5, 0.12 * size))
        return blend_face(original, self._restyled(stylized, original, ellipses, face_px), strength)

    def _restyled(
        self, stylized: torch.Tensor, original: torch.Tensor, ellipses: list[Ellipse], face_px: list[float]
    ) -> torch.Tensor:
        """The stylized frame with each face region replaced by the face stylized at a larger scale:
        ``restyle_scale`` x, or more for small faces (up to ``RESTYLE_STROKES`` strokes high),
        with the crop's long side capped at ``restyle_max_side``."""
        out = stylized.clone()
        h, w = stylized.shape[-2:]
        for e, px in zip(ellipses, face_px):
            y1, y2, x1, x2 = _region([e], self.cfg.feather, h, w)
            if x2 - x1 < 4 or y2 - y1 < 4:
                continue
            crop = original[..., y1:y2, x1:x2]
            wanted = max(self.cfg.restyle_scale, RESTYLE_STROKES * self.cfg.stroke_px / max(px, 1.0))
            scale = min(wanted, self.cfg.restyle_max_side / max(y2 - y1, x2 - x1))
            size = (max(8, round((y2 - y1) * scale)), max(8, round((x2 - x1) * scale)))
            up = F.interpolate(crop, size=size, mode="bilinear", align_corners=False)
            styl = self.stylizer(up)
            out[..., y1:y2, x1:x2] = F.interpolate(
                styl, size=(y2 - y1, x2 - x1), mode="bilinear", align_corners=False, antialias=True
            )
        return out

    def summary(self) -> dict:
        out = {
            "frames_with_faces": self.frames_with_faces,
            "max_faces": self.max_faces,
            "mode": self.mode,
            "strength": self.strength,
        }
        if self.strength_min <= self.strength_max:
            out["strength_range"] = [round(self.strength_min, 3), round(self.strength_max, 3)]
        return out
