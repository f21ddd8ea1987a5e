"""Face detection: the :class:`Faces` record, the :class:`FaceDetector` protocol, and MTCNN.

Coordinates are pixels of the image that was passed in (x right, y down, pixel centres at
integers). Landmarks are the five MTCNN points in image order: left eye, right eye, nose,
mouth left, mouth right ("left" = smaller x, as seen in the image).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    import torch


@dataclass
class Faces:
    """The faces found in one image: ``boxes`` (F, 4) x1, y1, x2, y2; ``landmarks`` (F, 5, 2);
    ``scores`` (F,); all float32. ``min_side``: the smallest face side (px) the search looked
    for; smaller faces may be there unseen (0: unknown)."""

    boxes: np.ndarray
    landmarks: np.ndarray
    scores: np.ndarray
    min_side: float = 0.0

    @classmethod
    def empty(cls) -> Faces:
        return cls(np.zeros((0, 4), np.float32), np.zeros((0, 5, 2), np.float32), np.zeros((0,), np.float32))

    def __len__(self) -> int:
        return len(self.boxes)

    def scaled(self, factor: float) -> Faces:
        """The same faces in an image resized by ``factor`` (pixel centres stay aligned)."""
        s = np.float32(factor)
        shift = np.float32(0.5 * (factor - 1.0))  # centre of pixel i maps to (i + 0.5) * s - 0.5
        return Faces(
            self.boxes * s + shift, self.landmarks * s + shift, self.scores.copy(), self.min_side * factor
        )

    def to_json(self) -> dict:
        return {
            "boxes": self.boxes.round(2).tolist(),
            "landmarks": self.landmarks.round(2).tolist(),
            "scores": self.scores.round(4).tolist(),
        }

    @classmethod
    def from_json(cls, data: dict) -> Faces:
        if not data.get("boxes"):
            return cls.empty()
        return cls(
            np.asarray(data["boxes"], np.float32).reshape(-1, 4),
            np.asarray(data["landmarks"], np.float32).reshape(-1, 5, 2),
            np.asarray(data["scores"], np.float32).reshape(-1),
        )


class FaceDetector(Protocol):
    def detect(self, images: list[np.ndarray], min_face: float | None = None) -> list[Faces]:
        """One :class:`Faces` per RGB uint8 H x W x 3 image; ``min_face``: smallest face side
        searched (px), None for the detector's own."""
        ...


class MTCNNDetector:
    """MTCNN (our cascade in :mod:`vidstyle.faces.mtcnn`, weights from the facenet-pytorch wheel).

    Equal-sized images run as one batch. Faces scoring below ``score_min`` are dropped.
    """

    def __init__(
        self,
        device: torch.device | str = "cpu",
        min_face: int = 20,
        thresholds: Sequence[float] = (0.6, 0.7, 0.7),
        score_min: float = 0.9,
    ):
        from .mtcnn import MTCNN

        self.score_min = score_min
        self.min_face = min_face
        cutoffs = (thresholds[0], thresholds[1], thresholds[2])  # P-, R-, O-Net
        self.mtcnn = MTCNN(device, min_face=min_face, thresholds=cutoffs)

    def detect(self, images: list[np.ndarray], min_face: float | None = None) -> list[Faces]:
        if not images:
            return []
        min_face = min_face or self.min_face
        images = [np.ascontiguousarray(im, dtype=np.uint8) for im in images]
        groups = [images] if all(im.shape == images[0].shape for im in images) else [[im] for im in images]
        out: list[Faces] = []
        for group in groups:
            for boxes, points, scores in self.mtcnn.detect(np.stack(group), min_face):
                keep = scores >= self.score_min
                out.append(Faces(boxes[keep], points[keep], scores[keep], float(min_face)))
        return out
