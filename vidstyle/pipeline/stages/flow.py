"""FlowStage: backward flow and Ruder consistency for each frame, in a worker pool, order kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...config import FlowConfig, TemporalConfig
from ...flow.estimators import flow_size, make_estimator, to_gray
from ...flow.ops import consistency_mask, erode, feather, flow_to_tensor
from ..item import Item, need
from ..stage import BaseStage

if TYPE_CHECKING:
    from .spec import StageHost, StageOutputs


class FlowStage(BaseStage):
    """Sets ``Item.flow_bw``, ``Item.consistency`` (both None for a first frame) and
    ``Item.flow_from``, the index of the frame the flow points back to."""

    name = "flow"

    def __init__(self, flow: FlowConfig, temporal: TemporalConfig):
        self.cfg = flow
        self.temporal = temporal
        (occ_a, occ_b), (mb_a, mb_b) = temporal.occlusion, temporal.motion_boundary
        self.occlusion, self.motion_boundary = (occ_a, occ_b), (mb_a, mb_b)  # Ruder's a, b of each test
        self.workers = flow.workers
        self.estimator = make_estimator(flow)
        self._prev_gray: np.ndarray | None = None
        self._prev_index: int | None = None

    def prepare(self, item: Item) -> None:
        size = flow_size(item.frame.height, item.frame.width, self.cfg.long_side)
        gray = to_gray(item.frame.rgb, size)
        prev = self._prev_gray
        item.flow_pair = (prev if prev is not None and prev.shape == gray.shape else None, gray)
        item.flow_from = self._prev_index
        self._prev_gray, self._prev_index = gray, item.frame.index

    def process(self, items: list[Item]) -> list[Item]:
        for item in items:
            prev, gray = need(item.flow_pair, "flow_pair")
            item.flow_pair = None
            if prev is None:
                item.flow_bw = item.consistency = None
                continue
            flow_bw = flow_to_tensor(self.estimator(gray, prev))
            flow_fw = flow_to_tensor(self.estimator(prev, gray))
            t = self.temporal
            mask = consistency_mask(flow_fw, flow_bw, self.occlusion, self.motion_boundary)
            item.flow_bw = flow_bw
            item.consistency = feather(erode(mask, t.erode), t.feather)
        return items


def build(pipeline: StageHost, run: StageOutputs) -> FlowStage:
    return FlowStage(pipeline.cfg.flow, pipeline.cfg.temporal)
