"""One entry of the stage list: a stage's name, when a run has it, and how it is built.

The pipeline's stages are a declared sequence of :class:`StageSpec` (``STAGES`` in this package);
a new stage is its own module plus one entry there. A builder gets the pipeline (its config,
stylizer, people plan and style bank, loaded on first use) and :class:`StageOutputs`, this run's
side of the construction. A subclass of :class:`~vidstyle.pipeline.api.Pipeline` brings its own
sequence through ``Pipeline.stage_specs``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ...config import PipelineConfig
    from ...io.compare import CompareSink
    from ...io.sink import FrameSink
    from ...people.styles import PeoplePlan
    from ...stylize.bank import StyleBank
    from ...stylize.base import Stylizer
    from ..stage import Stage


class StageHost(Protocol):
    """What a stage builder reads of the pipeline it joins (:class:`~vidstyle.pipeline.api.Pipeline`
    is one): its config, and its stylizer, people plan and style bank, loaded on first use."""

    cfg: PipelineConfig

    @property
    def stylizer(self) -> Stylizer: ...

    @property
    def people_plan(self) -> PeoplePlan | None: ...

    @property
    def style_bank(self) -> StyleBank: ...


@dataclass(frozen=True)
class StageOutputs:
    """What one run adds to a stage's construction.

    ``max_side``: the long side to stylize at (px, 0 = full size; None = the pipeline's default).
    """

    sink: FrameSink
    compare: CompareSink | None = None
    max_side: int | None = None


StageBuilder = Callable[["StageHost", StageOutputs], "Stage"]
StageSwitch = Callable[["StageHost", bool], bool]
"""``(pipeline, comparing)`` -> whether a run has the stage; ``comparing``: a side-by-side
comparison video is written too."""


def always(pipeline: StageHost, comparing: bool) -> bool:
    return True


@dataclass(frozen=True)
class StageSpec:
    """A stage of the list: ``name`` (as in reports), ``build`` and ``enabled``."""

    name: str
    build: StageBuilder
    enabled: StageSwitch = always


def temporal_on(pipeline: StageHost, comparing: bool) -> bool:
    """The temporal blend is on (``temporal.mode`` not off)."""
    return pipeline.cfg.temporal.mode != "off"


def faces_on(pipeline: StageHost, comparing: bool) -> bool:
    """Face preservation is on (``faces.mode`` not off)."""
    return pipeline.cfg.faces.mode != "off"


def people_on(pipeline: StageHost, comparing: bool) -> bool:
    """Person features are on (the pipeline has a people plan)."""
    return pipeline.people_plan is not None


def any_of(*switches: StageSwitch) -> StageSwitch:
    """On when one of ``switches`` is."""

    def enabled(pipeline: StageHost, comparing: bool) -> bool:
        return any(switch(pipeline, comparing) for switch in switches)

    return enabled


def comparing(pipeline: StageHost, comparing: bool) -> bool:
    """A comparison video is written."""
    return comparing
