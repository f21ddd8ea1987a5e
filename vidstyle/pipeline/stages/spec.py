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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...io.compare import CompareSink
    from ...io.sink import FrameSink
    from ..api import Pipeline
    from ..stage import Stage


@dataclass(frozen=True)
class StageOutputs:
    """What one run adds to a stage's construction.

    ``max_side``: the long side to stylize at (px, 0 = full size; None = the pipeline's default).
    """

    sink: FrameSink
    compare: CompareSink | None = None
    max_side: int | None = None


StageBuilder = Callable[["Pipeline", StageOutputs], "Stage"]
StageSwitch = Callable[["Pipeline", bool], bool]
"""``(pipeline, comparing)`` -> whether a run has the stage; ``comparing``: a side-by-side
comparison video is written too."""


def always(pipeline: Pipeline, comparing: bool) -> bool:
    return True


@dataclass(frozen=True)
class StageSpec:
    """A stage of the list: ``name`` (as in reports), ``build`` and ``enabled``."""

    name: str
    build: StageBuilder
    enabled: StageSwitch = always


def temporal_on(pipeline: Pipeline, comparing: bool) -> bool:
    """The temporal blend is on (``temporal.mode`` not off)."""
    return pipeline.cfg.temporal.mode != "off"


def faces_on(pipeline: Pipeline, comparing: bool) -> bool:
    """Face preservation is on (``faces.mode`` not off)."""
    return pipeline.cfg.faces.mode != "off"


def people_on(pipeline: Pipeline, comparing: bool) -> bool:
    """Person features are on (the pipeline has a people plan)."""
    return pipeline.people_plan is not None


def any_of(*switches: StageSwitch) -> StageSwitch:
    """On when one of ``switches`` is."""

    def enabled(pipeline: Pipeline, comparing: bool) -> bool:
        return any(switch(pipeline, comparing) for switch in switches)

    return enabled


def comparing(pipeline: Pipeline, comparing: bool) -> bool:
    """A comparison video is written."""
    return comparing
