"""The stages of the pipeline, one module each, and ``STAGES``, the list a run is built from:

    decode (the source) -> flow -> faces -> people -> preprocess -> stylize -> compose
      -> postprocess -> encode

Each reads and writes declared fields of :class:`~vidstyle.pipeline.item.Item`; the math lives in
the libraries below (``flow``, ``faces``, ``compose``, ``stylize``), a stage only schedules it.
A new stage is a module here (the stage and its ``build``) plus one :class:`~.spec.StageSpec`
in ``STAGES``, at its place in the order, saying when a run has it.
"""

from . import compose, encode, faces, flow, people, postprocess, preprocess, stylize
from .compose import ComposeStage
from .encode import EncodeStage
from .faces import FaceDetectStage
from .flow import FlowStage
from .people import PeopleSegmentStage
from .postprocess import PostprocessStage
from .preprocess import PreprocessStage
from .spec import StageOutputs, StageSpec, any_of, comparing, faces_on, people_on, temporal_on
from .stylize import StylizeStage

STAGES: tuple[StageSpec, ...] = (
    StageSpec("flow", flow.build, temporal_on),
    StageSpec("faces", faces.build, any_of(faces_on, people_on)),
    StageSpec("people", people.build, people_on),
    StageSpec("preprocess", preprocess.build),
    StageSpec("stylize", stylize.build),
    StageSpec("compose", compose.build, any_of(temporal_on, faces_on, comparing, people_on)),
    StageSpec("postprocess", postprocess.build),
    StageSpec("encode", encode.build),
)
"""The stages a :class:`~vidstyle.pipeline.api.Pipeline` run may have, in the order they run."""

__all__ = [
    "STAGES",
    "ComposeStage",
    "EncodeStage",
    "FaceDetectStage",
    "FlowStage",
    "PeopleSegmentStage",
    "PostprocessStage",
    "PreprocessStage",
    "StageOutputs",
    "StageSpec",
    "StylizeStage",
]
