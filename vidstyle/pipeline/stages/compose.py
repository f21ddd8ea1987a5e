"""ComposeStage: the one sequential stage, where each output depends on the previous one.

Per frame: temporal blend with the warped previous output, then face preservation; the result is
what the next frame warps (so preserved faces are carried, not re-stylized by the blend).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...compose.faces import FacePreserver
from ...compose.people import PeopleRegions
from ...compose.temporal import TemporalState
from ...config import FacesConfig, TemporalConfig
from ..item import FaceDebug, Item, need
from ..stage import BaseStage

if TYPE_CHECKING:
    from .spec import StageHost, StageOutputs


class ComposeStage(BaseStage):
    """Temporal blend and face regions, in place on ``Item.stylized``.

    Consumes ``flow_bw``, ``consistency``, ``flow_from`` and ``faces`` (and, with person
    features, ``styles`` and ``person_prob``: the regions are put together first, see
    :mod:`vidstyle.compose.people`; ``people_debug`` is set for ``--debug-people``). With ``keep_per_frame``
    the unblended stylization stays in ``Item.per_frame`` (for side-by-side comparison videos).
    With faces on and ``faces.debug``, the face mask and tracks go to ``Item.face_debug``.
    """

    name = "compose"

    def __init__(
        self,
        temporal: TemporalConfig,
        faces: FacesConfig | None = None,
        stylizer=None,
        keep_per_frame: bool = False,
        people=None,
    ):
        """``people``: a :class:`~vidstyle.compose.people.PeopleRegions` (per-region looks)."""
        self.temporal = (
            TemporalState(temporal.alpha, temporal.scene_cut, temporal.detail)
            if temporal.mode == "blend"
            else None
        )
        self.faces = FacePreserver(faces, stylizer) if faces is not None and faces.mode != "off" else None
        self.people = people
        self.debug_faces = bool(faces and faces.debug)
        self.keep_per_frame = keep_per_frame
        self._last_index: int | None = None

    def process(self, items: list[Item]) -> list[Item]:
        for item in items:
            out, image = need(item.stylized, "stylized")[None], item.image
            flow_bw, consistency, flow_from = item.flow_bw, item.consistency, item.flow_from
            item.flow_bw = item.consistency = item.flow_from = None
            if flow_from != self._last_index:
                flow_bw = consistency = None  # a frame was dropped after the flow stage: no pair
            self._last_index = item.frame.index
            frame_hw = (item.frame.height, item.frame.width)
            detections, item.faces = item.faces, None
            tracks, regions = None, None
            if self.people is not None:
                tracks = (
                    self.faces.track(frame_hw, detections, flow_bw)
                    if self.faces is not None
                    else self.people.track(frame_hw, detections, flow_bw)
                )
                out, regions, persons = self.people.compose(
                    need(item.styles, "styles"),
                    need(image, "image")[None],
                    item.person_prob,
                    tracks,
                    flow_bw,
                    consistency,
                    frame_hw,
                )
                item.styles = item.person_prob = None
                if self.people.debug:
                    item.people_debug = persons
            if self.keep_per_frame:
                item.per_frame = out[0]
            if self.temporal is not None:
                out = self.temporal.blend(out, flow_bw, consistency)
            if self.faces is not None:
                out, mask, tracks = self.faces.apply(
                    out, need(image, "image")[None], frame_hw, detections, flow_bw, tracks
                )
                if self.debug_faces:
                    item.face_debug = FaceDebug(mask, tracks)
            if regions is not None:
                out = self.people.restore(out, regions)
            if self.temporal is not None:
                self.temporal.commit(out)
            item.stylized = out[0]
        return items

    def summary(self) -> dict:
        out = {}
        if self.temporal is not None:
            out["temporal"] = self.temporal.summary()
        if self.faces is not None:
            out["faces"] = self.faces.summary()
        if self.people is not None:
            out["people"] = self.people.summary()
        return out


def build(pipeline: StageHost, run: StageOutputs) -> ComposeStage:
    """Keeps the per-frame stylization when a comparison video is written."""
    cfg, plan = pipeline.cfg, pipeline.people_plan
    return ComposeStage(
        cfg.temporal,
        cfg.faces,
        pipeline.stylizer,
        keep_per_frame=run.compare is not None,
        people=PeopleRegions(plan, pipeline.style_bank.specs, cfg.people, cfg.faces)
        if plan is not None
        else None,
    )
