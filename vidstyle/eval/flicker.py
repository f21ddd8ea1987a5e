"""Warping error (Lai et al. 2018): how much a video flickers, judged by the *original's* motion.

    E(O_t, O_t+1) = sum_x M_t(x) |O_t(x) - O_t+1(x + F_t->t+1(x))|^2 / sum_x M_t(x)

F and the non-occlusion mask M come from the original frames (Farneback/DIS, Ruder's
consistency test), so every stylized version of a clip is measured against the same motion.
Images are RGB in [0, 1]; the squared norm sums the 3 channels. Computed at flow scale
(long side ``long_side`` px) for all videos alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch

from ..config import FlowConfig, TemporalConfig
from ..flow.estimators import flow_size, make_estimator, to_gray
from ..flow.ops import consistency_mask, flow_to_tensor, warp


@dataclass
class FlickerResult:
    """Mean warping error over frame pairs, and each pair's value."""

    e_warp: float
    per_pair: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"e_warp": self.e_warp, "pairs": len(self.per_pair), "per_pair": self.per_pair}


def _small(rgb: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    if rgb.shape[:2] != tuple(size):
        rgb = cv2.resize(rgb, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float() / 255.0


def pair_error(
    o_t: torch.Tensor, o_next: torch.Tensor, flow_t_next: torch.Tensor, mask_t: torch.Tensor
) -> float:
    """One pair's E: 1 x 3 x H x W images in [0, 1], flow on t's grid, mask 1 x 1 x H x W."""
    diff = o_t - warp(o_next, flow_t_next)
    total = mask_t.sum()
    if total <= 0:
        return float("nan")
    return float(((diff * diff).sum(1, keepdim=True) * mask_t).sum() / total)


def warping_errors(
    original: Iterable[np.ndarray],
    videos: list[Iterable[np.ndarray]],
    flow: FlowConfig | None = None,
    temporal: TemporalConfig | None = None,
) -> list[FlickerResult]:
    """E_warp of each of ``videos`` (RGB frame iterables, same length and size as ``original``).

    Pass the original frames again as one of ``videos`` for the original's own E_warp: the
    floor set by flow errors.
    """
    flow = flow or FlowConfig()
    temporal = temporal or TemporalConfig()
    estimator = make_estimator(flow)
    occ, edge = temporal.occlusion, temporal.motion_boundary
    iters = [iter(v) for v in videos]
    per_pair: list[list[float]] = [[] for _ in videos]
    prev: tuple[np.ndarray, list[torch.Tensor]] | None = None
    size = None
    for i, rgb in enumerate(original):
        frames = [_next_frame(it, k, i, rgb.shape) for k, it in enumerate(iters)]
        size = size or flow_size(rgb.shape[0], rgb.shape[1], flow.long_side)
        gray = to_gray(rgb, size)
        smalls = [_small(f, size) for f in frames]
        if prev is not None:
            prev_gray, prev_smalls = prev
            f_t_next = flow_to_tensor(estimator(prev_gray, gray))  # on t's grid -> t+1
            f_next_t = flow_to_tensor(estimator(gray, prev_gray))  # on t+1's grid -> t
            mask = consistency_mask(f_next_t, f_t_next, (occ[0], occ[1]), (edge[0], edge[1]))
            for k in range(len(videos)):
                per_pair[k].append(pair_error(prev_smalls[k], smalls[k], f_t_next, mask))
        prev = (gray, smalls)
    for k, it in enumerate(iters):
        if next(it, None) is not None:
            raise ValueError(f"video {k + 1} has more frames than the original")
    results = []
    for errors in per_pair:
        valid = [e for e in errors if not np.isnan(e)]
        results.append(FlickerResult(float(np.mean(valid)) if valid else float("nan"), errors))
    return results


def _next_frame(it: Iterator[np.ndarray], k: int, index: int, shape: tuple) -> np.ndarray:
    try:
        frame = next(it)
    except StopIteration:
        raise ValueError(f"video {k + 1} has fewer frames than the original ({index})") from None
    if frame.shape != shape:
        raise ValueError(
            f"video {k + 1} is {frame.shape[1]}x{frame.shape[0]}, the original {shape[1]}x{shape[0]}"
        )
    return frame
