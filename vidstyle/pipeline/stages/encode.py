"""EncodeStage: hands ``Item.output`` to the sink (and the comparison panels to the compare sink)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...io.compare import CompareSink
from ...io.sink import FrameSink
from ..item import Item, need
from ..stage import BaseStage

if TYPE_CHECKING:
    from .spec import StageHost, StageOutputs


class EncodeStage(BaseStage):
    """Writes each output to ``sink``; with ``compare``, also original | per-frame | output."""

    name = "encode"

    def __init__(self, sink: FrameSink, compare: CompareSink | None = None):
        self.sink = sink
        self.compare = compare

    def process(self, items: list[Item]) -> list[Item]:
        for item in items:
            output = need(item.output, "output")
            self.sink.write(item.frame, output)
            if self.compare is not None:
                per_frame, item.per_frame_rgb = need(item.per_frame_rgb, "per_frame_rgb"), None
                self.compare.write(item.frame, [item.frame.rgb, per_frame, output])
            item.output = None
            item.frame.rgb = None  # type: ignore[assignment]  # pixels released once written; io's Frame.rgb is not Optional
        return items


def build(pipeline: StageHost, run: StageOutputs) -> EncodeStage:
    return EncodeStage(run.sink, run.compare)
