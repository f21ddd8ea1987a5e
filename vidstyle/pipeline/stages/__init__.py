"""The stages of the pipeline, one module each, in the order they run:

    decode (the source) -> flow -> faces -> people -> preprocess -> stylize -> compose
      -> postprocess -> encode

Each reads and writes declared fields of :class:`~vidstyle.pipeline.item.Item`; the math lives in
the libraries below (``flow``, ``faces``, ``compose``, ``stylize``), a stage only schedules it.
"""

from .compose import ComposeStage
from .encode import EncodeStage
from .faces import FaceDetectStage
from .flow import FlowStage
from .people import PeopleSegmentStage
from .postprocess import PostprocessStage
from .preprocess import PreprocessStage
from .stylize import StylizeStage

__all__ = [
    "ComposeStage",
    "EncodeStage",
    "FaceDetectStage",
    "FlowStage",
    "PeopleSegmentStage",
    "PostprocessStage",
    "PreprocessStage",
    "StylizeStage",
]
