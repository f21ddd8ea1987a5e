"""FaceDetectStage: MTCNN every k frames on downscaled copies (and a small-face pass at full size
now and then, see :mod:`vidstyle.faces.passes`), batched, on the pipeline's device."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ...config import FacesConfig
from ...faces.detector import MTCNNDetector
from ...faces.passes import DetectionPasses
from ..item import Item
from ..stage import BaseStage

if TYPE_CHECKING:
    from .spec import StageHost, StageOutputs


class FaceDetectStage(BaseStage):
    """Sets ``Item.faces`` (frame px) on every k-th frame; other frames get None.

    One call takes ``every x batch`` frames so the detector sees ``batch`` frames at once
    (``batch`` 1: frame by frame, for live streams).
    """

    name = "faces"

    def __init__(self, cfg: FacesConfig, device: torch.device):
        self.cfg = cfg
        self.device = device
        self.batch_size = cfg.every * cfg.batch if cfg.batch > 1 else 1
        self.passes: DetectionPasses | None = None
        self.detections = 0
        self.faces_found = 0

    def start(self) -> None:
        detector = MTCNNDetector(self.device, min_face=self.cfg.min_face, score_min=self.cfg.score_min)
        self.passes = DetectionPasses(
            detector, self.cfg.detect_long_side, self.cfg.min_face, self.cfg.small_face, self.cfg.small_every
        )

    def process(self, items: list[Item]) -> list[Item]:
        picked = [it for it in items if it.frame.index % self.cfg.every == 0]
        for it in items:
            it.faces = None
        if not picked:
            return items
        if self.passes is None:
            raise RuntimeError("FaceDetectStage.start() was not called")
        found = self.passes.detect([it.frame.index for it in picked], [it.frame.rgb for it in picked])
        for it, faces in zip(picked, found):
            it.faces = faces
            self.detections += 1
            self.faces_found += len(faces)
        return items

    def summary(self) -> dict:
        return {
            "face_detections": {
                "frames": self.detections,
                "faces": self.faces_found,
                "small_face_passes": self.passes.small_passes if self.passes else 0,
            }
        }


def build(pipeline: StageHost, run: StageOutputs) -> FaceDetectStage:
    return FaceDetectStage(pipeline.cfg.faces, pipeline.stylizer.device)
