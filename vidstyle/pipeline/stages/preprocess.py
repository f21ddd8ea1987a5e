"""PreprocessStage: the decoded frame onto the device, at stylization size (``Item.image``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ...stylize.base import fit_max_side
from ..convert import resize, to_tensor
from ..item import Item
from ..stage import BaseStage

if TYPE_CHECKING:
    from .spec import StageHost, StageOutputs


class PreprocessStage(BaseStage):
    """``frame.rgb`` (H x W x 3 uint8, host) -> ``Item.image`` (3 x h x w float in [0, 1], device;
    long side at most ``max_side``, 0 = full size)."""

    name = "preprocess"

    def __init__(self, device: torch.device, max_side: int = 0):
        self.device = device
        self.max_side = max_side

    def process(self, items: list[Item]) -> list[Item]:
        for item in items:
            image = to_tensor(item.frame.rgb, self.device)
            size = fit_max_side(item.frame.height, item.frame.width, self.max_side)
            item.image = resize(image, size)
        return items


def build(pipeline: StageHost, run: StageOutputs) -> PreprocessStage:
    """At ``run.max_side``, else ``model.max_side``, on the stylizer's device."""
    max_side = pipeline.cfg.model.max_side if run.max_side is None else run.max_side
    return PreprocessStage(pipeline.stylizer.device, max_side)
