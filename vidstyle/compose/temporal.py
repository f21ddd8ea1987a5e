"""Temporal blending at inference time (pure math, any device).

    O_t = c * (alpha * W_t + (1 - alpha) * S_t) + (1 - c) * S_t = S_t + alpha * c * (W_t - S_t)

S_t: the stylized frame, W_t: the previous *output* warped onto frame t along the backward flow,
c: the consistency mask (1 where frame t's pixel was visible in frame t-1).
"""

from __future__ import annotations

import torch

from ..flow.ops import resize_flow, resize_mask, warp


def temporal_blend(stylized: torch.Tensor, warped: torch.Tensor, consistency: torch.Tensor,
                   alpha: float) -> torch.Tensor:
    """N x 3 x H x W images, N x 1 x H x W mask in [0, 1] -> the blended N x 3 x H x W."""
    return stylized + (alpha * consistency) * (warped - stylized)


class TemporalState:
    """Carries the previous output between frames; resets at the start and on scene cuts.

    ``blend`` returns O_t for S_t (1 x 3 x h x w); flow and mask arrive at flow scale and are
    resampled to the stylized size here, on the stylized tensor's device. ``commit`` stores the
    frame's final output (after any later compositing) for the next frame; ``step`` does both.
    """

    def __init__(self, alpha: float, scene_cut: float):
        self.alpha = alpha
        self.scene_cut = scene_cut
        self.prev: torch.Tensor | None = None
        self.pairs = 0
        self.blended = 0
        self.resets = 0
        self.consistent_sum = 0.0

    def step(self, stylized: torch.Tensor, flow_bw: torch.Tensor | None,
             consistency: torch.Tensor | None) -> torch.Tensor:
        out = self.blend(stylized, flow_bw, consistency)
        self.commit(out)
        return out

    def commit(self, output: torch.Tensor) -> None:
        self.prev = output

    def blend(self, stylized: torch.Tensor, flow_bw: torch.Tensor | None,
              consistency: torch.Tensor | None) -> torch.Tensor:
        out = stylized
        if self.prev is not None and flow_bw is not None and self.prev.shape == stylized.shape:
            size = tuple(stylized.shape[-2:])
            c = resize_mask(consistency.to(stylized.device, stylized.dtype), size)
            share = float(c.mean())
            self.pairs += 1
            self.consistent_sum += share
            if share < self.scene_cut:
                self.resets += 1
            else:
                flow = resize_flow(flow_bw.to(stylized.device, stylized.dtype), size)
                out = temporal_blend(stylized, warp(self.prev, flow), c, self.alpha)
                self.blended += 1
        return out

    def summary(self) -> dict:
        return {"blended": self.blended, "scene_resets": self.resets,
                "mean_consistent": round(self.consistent_sum / max(self.pairs, 1), 4)}
