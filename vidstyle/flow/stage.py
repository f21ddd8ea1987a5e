"""FlowStage: backward flow and Ruder consistency for each frame, in a worker pool, order kept."""

from __future__ import annotations

import numpy as np
import torch

from ..config import FlowConfig, TemporalConfig
from ..pipeline.stage import BaseStage, Item
from .estimators import flow_size, make_estimator, to_gray
from .ops import consistency_mask, erode, feather


def flow_to_tensor(flow: np.ndarray) -> torch.Tensor:
    """H x W x 2 numpy flow -> 1 x 2 x H x W float32 tensor."""
    return torch.from_numpy(np.ascontiguousarray(flow.transpose(2, 0, 1)))[None]


class FlowStage(BaseStage):
    """Adds ``extras['flow_bw']`` (1 x 2 x h x w, t -> t-1, px at flow scale) and
    ``extras['consistency']`` (1 x 1 x h x w in [0, 1]); both None for a first frame.
    ``extras['flow_from']`` is the index of the frame the flow points back to.
    """

    name = "flow"

    def __init__(self, flow: FlowConfig, temporal: TemporalConfig):
        self.cfg = flow
        self.temporal = temporal
        self.workers = flow.workers
        self.estimator = make_estimator(flow)
        self._prev_gray: np.ndarray | None = None
        self._prev_index: int | None = None

    def prepare(self, item: Item) -> None:
        size = flow_size(item.frame.height, item.frame.width, self.cfg.long_side)
        gray = to_gray(item.frame.rgb, size)
        prev = self._prev_gray
        item.extras["flow_pair"] = (prev if prev is not None and prev.shape == gray.shape else None, gray)
        item.extras["flow_from"] = self._prev_index
        self._prev_gray, self._prev_index = gray, item.frame.index

    def process(self, items: list[Item]) -> list[Item]:
        for item in items:
            prev, gray = item.extras.pop("flow_pair")
            if prev is None:
                item.extras["flow_bw"] = item.extras["consistency"] = None
                continue
            flow_bw = flow_to_tensor(self.estimator(gray, prev))
            flow_fw = flow_to_tensor(self.estimator(prev, gray))
            t = self.temporal
            mask = consistency_mask(flow_fw, flow_bw, tuple(t.occlusion), tuple(t.motion_boundary))
            item.extras["flow_bw"] = flow_bw
            item.extras["consistency"] = feather(erode(mask, t.erode), t.feather)
        return items
