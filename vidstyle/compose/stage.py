"""ComposeStage: the one sequential stage, where each output depends on the previous one."""

from __future__ import annotations

from ..config import TemporalConfig
from ..pipeline.stage import BaseStage, Item
from .temporal import TemporalState


class ComposeStage(BaseStage):
    """Temporal blend of ``item.stylized`` with the warped previous output (in place).

    With ``keep_per_frame`` the unblended stylization stays in ``extras['per_frame']`` (for
    side-by-side comparison videos).
    """

    name = "compose"

    def __init__(self, temporal: TemporalConfig, keep_per_frame: bool = False):
        self.temporal = TemporalState(temporal.alpha, temporal.scene_cut) \
            if temporal.mode == "blend" else None
        self.keep_per_frame = keep_per_frame

    def process(self, items: list[Item]) -> list[Item]:
        for item in items:
            stylized = item.stylized[None]
            if self.keep_per_frame:
                item.extras["per_frame"] = item.stylized
            if self.temporal is not None:
                stylized = self.temporal.step(stylized, item.extras.pop("flow_bw", None),
                                              item.extras.pop("consistency", None))
            item.stylized = stylized[0]
        return items

    def summary(self) -> dict:
        return {"temporal": self.temporal.summary()} if self.temporal is not None else {}
