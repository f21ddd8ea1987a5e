"""PeopleSegmentStage: the person probability map of each frame, at reduced scale, in a worker pool."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...config import PeopleConfig
from ...people.segmenter import SelfieSegmenter
from ..item import Item
from ..stage import BaseStage

if TYPE_CHECKING:
    from .spec import StageHost, StageOutputs


class PeopleSegmentStage(BaseStage):
    """Sets ``Item.person_prob`` (hs x ws float32 in [0, 1], long side ``people.long_side``) on
    every k-th frame; the others get None and the compose stage carries the masks along the flow.

    The segmentation graphs are built here, on the constructing thread, one per worker.
    """

    name = "people"

    def __init__(self, cfg: PeopleConfig):
        self.cfg = cfg
        self.workers = cfg.workers
        self.segmenter = SelfieSegmenter(cfg.model == "landscape", cfg.workers, cfg.long_side)
        self.segmented = 0

    def process(self, items: list[Item]) -> list[Item]:
        for item in items:
            if item.frame.index % self.cfg.every == 0:
                item.person_prob = self.segmenter(item.frame.rgb)
                self.segmented += 1
        return items

    def close(self) -> list[Item]:
        self.segmenter.close()
        return []

    def summary(self) -> dict:
        return {"people_segmented": self.segmented}


def build(pipeline: StageHost, run: StageOutputs) -> PeopleSegmentStage:
    return PeopleSegmentStage(pipeline.cfg.people)
