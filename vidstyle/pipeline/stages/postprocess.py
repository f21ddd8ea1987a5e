"""PostprocessStage: back to the source size as uint8 on the host (``Item.output``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...faces.overlay import draw_tracks, tint_mask
from ...people.overlay import draw_people, tint_people
from ..convert import resize, to_uint8
from ..item import Item, need
from ..stage import BaseStage

if TYPE_CHECKING:
    from .spec import StageHost, StageOutputs


class PostprocessStage(BaseStage):
    """``Item.stylized`` -> ``Item.output`` (H x W x 3 uint8, host); also ``per_frame`` ->
    ``per_frame_rgb`` when kept, and the ``--debug-faces`` / ``--debug-people`` overlays.
    Releases the device tensors."""

    name = "postprocess"

    def process(self, items: list[Item]) -> list[Item]:
        for item in items:
            size = (item.frame.height, item.frame.width)
            debug, item.face_debug = item.face_debug, None
            stylized = need(item.stylized, "stylized")
            if debug is not None and debug.mask is not None:
                stylized = tint_mask(stylized, debug.mask[0])
            people, item.people_debug = item.people_debug, None
            if people is not None:
                stylized = tint_people(stylized, people)
            item.output = to_uint8(resize(stylized, size))
            if debug is not None:
                draw_tracks(item.output, debug.tracks)
            if people is not None:
                draw_people(item.output, people)
            per_frame, item.per_frame = item.per_frame, None
            if per_frame is not None:
                item.per_frame_rgb = to_uint8(resize(per_frame, size))
            item.image = item.stylized = item.styles = None  # release device memory early
        return items


def build(pipeline: StageHost, run: StageOutputs) -> PostprocessStage:
    return PostprocessStage()
