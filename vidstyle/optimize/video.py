"""Ruder et al. 2016 on top of :class:`~vidstyle.optimize.gatys.Gatys`: frames in order, each
started from the previous *result* warped along the optical flow (disoccluded pixels from the
fill image: the content frame, or a style network's output), with the consistency-masked temporal
loss; optional long-term terms and multi-pass (alternating directions with blending).

Flow and masks come from :mod:`vidstyle.flow` (the estimators and Ruder's consistency test the
rest of the pipeline uses), computed at flow scale and resampled to the optimized size. Images
are 1 x 3 x h x w float in 0..255 on the job's device.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..config import FlowConfig, OptimizeConfig, TemporalConfig
from ..flow.estimators import flow_size, make_estimator, to_gray
from ..flow.ops import consistency_mask, resize_flow, resize_mask, warp
from .gatys import Gatys
from .objective import TemporalTerm


@dataclass
class FlowPair:
    """Motion from frame t to an earlier/later frame s, on t's grid at the optimized size."""

    flow: torch.Tensor  # 1 x 2 x h x w: t(x) ~ s(x + flow(x))
    mask: torch.Tensor  # 1 x 1 x h x w: 1 where t's pixel is reliably seen in s


class Motion:
    """Flow t -> s plus Ruder's consistency of t against s, for frames given as uint8 RGB."""

    def __init__(self, flow: FlowConfig, temporal: TemporalConfig, device: torch.device):
        self.cfg, self.temporal, self.device = flow, temporal, device
        self.estimator = make_estimator(flow)
        (occ_a, occ_b), (mb_a, mb_b) = temporal.occlusion, temporal.motion_boundary
        self.occlusion, self.motion_boundary = (occ_a, occ_b), (mb_a, mb_b)  # Ruder's a, b of each test

    def gray(self, rgb: np.ndarray) -> np.ndarray:
        return to_gray(rgb, flow_size(rgb.shape[0], rgb.shape[1], self.cfg.long_side))

    def pair(self, gray_t: np.ndarray, gray_s: np.ndarray, size: tuple[int, int]) -> FlowPair:
        t_to_s = _tensor(self.estimator(gray_t, gray_s))
        s_to_t = _tensor(self.estimator(gray_s, gray_t))
        mask = consistency_mask(s_to_t, t_to_s, self.occlusion, self.motion_boundary)
        return FlowPair(
            resize_flow(t_to_s, size).to(self.device), (resize_mask(mask, size) > 0.5).float().to(self.device)
        )


def _tensor(flow: np.ndarray) -> torch.Tensor:
    """H x W x 2 OpenCV flow -> 1 x 2 x H x W float32."""
    return torch.from_numpy(np.ascontiguousarray(flow.transpose(2, 0, 1)))[None]


def _size(image: torch.Tensor) -> tuple[int, int]:
    """(h, w) of an N x C x h x w tensor."""
    return image.shape[-2], image.shape[-1]


def long_term_masks(masks: list[torch.Tensor]) -> list[torch.Tensor]:
    """Ruder's long-term weights: c_j minus the masks of the nearer frames (j ascending), >= 0."""
    out: list[torch.Tensor] = []
    if not masks:
        return out
    seen = torch.zeros_like(masks[0])
    for m in masks:
        out.append((m - seen).clamp(min=0))
        seen = seen + m
    return out


@dataclass
class Frame:
    """One frame of the job: content at the optimized size, its flow grey image and fill."""

    index: int
    content: torch.Tensor  # 1 x 3 x h x w, 0..255
    rgb: np.ndarray  # h x w x 3 uint8 (faces, flow)
    gray: np.ndarray | None  # at flow size (Motion.gray); None outside a video job
    result: torch.Tensor | None = None  # 1 x 3 x h x w, 0..255, once optimized

    def flow_gray(self) -> np.ndarray:
        """``gray``; ValueError for a frame made without one."""
        if self.gray is None:
            raise ValueError(f"frame {self.index} has no flow image (not a video job)")
        return self.gray

    def finished(self) -> torch.Tensor:
        """``result``; ValueError before the frame is optimized."""
        if self.result is None:
            raise ValueError(f"frame {self.index} is not optimized yet")
        return self.result


class RuderVideo:
    """Optimizes frames one by one (``frame``) or a whole clip in passes (``multipass``).

    ``first_fill(content, index)`` gives the first frame's start image, ``fill`` the colours of
    disoccluded regions. ``on_frame(pass, index)`` (before a frame) and ``on_iter(i, terms)``
    report progress.
    """

    def __init__(
        self,
        gatys: Gatys,
        cfg: OptimizeConfig,
        motion: Motion,
        fill: Callable[[torch.Tensor, int], torch.Tensor],
        first_fill: Callable[[torch.Tensor, int], torch.Tensor],
        on_iter: Callable[[int, dict], None] | None = None,
    ):
        self.gatys, self.cfg, self.motion = gatys, cfg, motion
        self.fill, self.first_fill, self.on_iter = fill, first_fill, on_iter
        self.offsets = sorted(set(cfg.long_term) | {1})
        self.history: list[Frame] = []  # earlier frames, nearest last (single pass)

    def _iters(self, first: bool) -> int:
        cfg = self.cfg
        return (cfg.iters_first or 2 * cfg.iters) if first else cfg.iters

    def frame(self, frame: Frame) -> torch.Tensor:
        """The next frame of a single forward pass; returns its result (1 x 3 x h x w)."""
        size = _size(frame.content)
        earlier = [
            f for f in self.history if frame.index - f.index in self.offsets and _size(f.content) == size
        ]
        earlier.sort(key=lambda f: frame.index - f.index)
        faces = self.gatys.face_terms(frame.rgb)
        if not earlier:
            init = self.first_fill(frame.content, frame.index)
            frame.result = self.gatys.solve(
                frame.content, init, self._iters(True), faces=faces, on_iter=self.on_iter
            ).image
        else:
            pairs = [self.motion.pair(frame.flow_gray(), f.flow_gray(), size) for f in earlier]
            warped = [warp(f.finished(), p.flow) for f, p in zip(earlier, pairs)]
            masks = long_term_masks([p.mask for p in pairs])
            nearest = earlier[0].index == frame.index - 1
            fill = self.fill(frame.content, frame.index)
            init = pairs[0].mask * warped[0] + (1 - pairs[0].mask) * fill if nearest else fill
            terms = [TemporalTerm(w, m) for w, m in zip(warped, masks)]
            frame.result = self.gatys.solve(
                frame.content, init, self._iters(False), terms, self.cfg.temporal_weight, faces, self.on_iter
            ).image
        self.remember(frame)
        return frame.result

    def remember(self, frame: Frame) -> None:
        """Keep ``frame`` (with its result) for the temporal terms of the frames after it."""
        self.history.append(frame)
        keep = max(self.offsets)
        self.history = [f for f in self.history if frame.index - f.index < keep]

    def multipass(
        self,
        frames: list[Frame],
        start_pass: int = 1,
        on_pass_done: Callable[[int, list[Frame]], None] | None = None,
        on_frame: Callable[[int, int], None] | None = None,
    ) -> list[Frame]:
        """Ruder's multi-pass: pass 1 forward with warped starts; later passes alternate
        direction and start each frame from delta*c*warp(neighbour) + (1 - delta*c)*itself;
        the temporal loss joins from ``pass_temporal_from``. ``start_pass`` > 1 continues a job
        whose frames already hold the results of pass ``start_pass - 1``."""
        cfg = self.cfg
        n = len(frames)
        size = _size(frames[0].content)
        gray = [f.flow_gray() for f in frames]
        back: list[FlowPair | None] = [None]
        back += [self.motion.pair(gray[t], gray[t - 1], size) for t in range(1, n)]
        fwd: list[FlowPair | None] = [self.motion.pair(gray[t], gray[t + 1], size) for t in range(n - 1)]
        fwd.append(None)
        for p in range(start_pass, cfg.passes + 1):
            forward = p % 2 == 1
            weight = cfg.pass_temporal_weight if p >= cfg.pass_temporal_from else 0.0
            order = range(n) if forward else range(n - 1, -1, -1)
            for k, t in enumerate(order):
                f = frames[t]
                pair = (back if forward else fwd)[t]
                neighbour = frames[t - 1 if forward else t + 1] if k > 0 else None
                faces = self.gatys.face_terms(f.rgb)
                if neighbour is None or pair is None:  # the first frame of the direction
                    init = f.result if f.result is not None else self.first_fill(f.content, t)
                    terms = []
                else:
                    warped = warp(neighbour.finished(), pair.flow)
                    if p == 1:
                        init = pair.mask * warped + (1 - pair.mask) * self.fill(f.content, t)
                    else:
                        dc = cfg.pass_blend * pair.mask
                        init = dc * warped + (1 - dc) * f.finished()
                    terms = [TemporalTerm(warped, pair.mask)]
                if on_frame is not None:
                    on_frame(p, t)
                f.result = self.gatys.solve(
                    f.content, init, cfg.pass_iters, terms, weight, faces, self.on_iter
                ).image
            if on_pass_done is not None:
                on_pass_done(p, frames)
        return frames
