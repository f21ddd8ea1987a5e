"""The unit of work that flows between stages: one frame and everything the stages add to it.

Every field a stage hands to a later stage is declared here, with its shape, unit and device,
so a renamed field is an AttributeError instead of a feature silently turned off. A stage that
consumes a field sets it back to None (the memory goes as soon as it is no longer needed).
A new stage (person masks, say) adds its fields here the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from ..io.frame import Frame

if TYPE_CHECKING:
    import torch

    from ..faces.detector import Faces
    from ..faces.tracker import Track
    from ..people.tracker import PersonMasks

T = TypeVar("T")


class MissingField(RuntimeError):
    """A stage needed an Item field that no earlier stage set (a stage list out of order)."""


def need(value: T | None, field: str) -> T:
    """``value``, read from the Item field ``field``; MissingField when it is None."""
    if value is None:
        raise MissingField(f"Item.{field} is not set: the stage that fills it did not run before")
    return value


@dataclass
class FaceDebug:
    """What ``--debug-faces`` draws: the face mask (1 x 1 x h x w float in [0, 1] on the
    pipeline's device, stylization size; None when no face is tracked) and the tracks (frame px)."""

    mask: torch.Tensor | None
    tracks: list[Track]


@dataclass
class Item:
    """One frame on its way through the pipeline; each stage fills in its part.

    Sizes: ``H x W`` is the source frame, ``h x w`` the stylization size (``H x W``, or smaller
    under ``model.max_side``), ``hf x wf`` the flow size (long side ``flow.long_side``).
    """

    frame: Frame
    # preprocess -> stylize -> compose -> postprocess
    image: torch.Tensor | None = None  # 3 x h x w float32 in [0, 1], pipeline's device
    stylized: torch.Tensor | None = None  # 3 x h x w float32 in [0, 1], pipeline's device
    output: np.ndarray | None = None  # H x W x 3 uint8, host: what the sink writes
    # flow -> compose (and faces, for tracking)
    flow_pair: tuple[np.ndarray | None, np.ndarray] | None = None
    """(previous, current) grayscale hf x wf uint8 frames, set in order by ``FlowStage.prepare``
    and consumed by its workers; previous is None at a first frame or a size change."""
    flow_bw: torch.Tensor | None = None  # 1 x 2 x hf x wf float32, host; px, t -> flow_from
    consistency: torch.Tensor | None = None  # 1 x 1 x hf x wf float32 in [0, 1], host
    flow_from: int | None = None  # index of the frame ``flow_bw`` points back to
    # faces -> compose
    faces: Faces | None = None  # detections in frame px (every k-th frame), else None
    # compose -> postprocess -> encode
    face_debug: FaceDebug | None = None  # only with ``faces.debug``
    per_frame: torch.Tensor | None = None  # 3 x h x w, the unblended stylization (--compare)
    per_frame_rgb: np.ndarray | None = None  # H x W x 3 uint8, host: ``per_frame`` at source size
    # people -> compose (person features only)
    person_prob: np.ndarray | None = None
    """hs x ws float32 in [0, 1], host: the person probability at segmentation scale (long side
    ``people.long_side``) on every ``people.every``-th frame, else None."""
    # stylize -> compose (person features only)
    styles: list[torch.Tensor] | None = None  # one 3 x h x w image per style of the people plan
    # compose -> postprocess
    people_debug: PersonMasks | None = None  # only with ``people.debug``
