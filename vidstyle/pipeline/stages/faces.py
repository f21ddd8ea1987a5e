"""FaceDetectStage: MTCNN every k frames on downscaled copies, batched, on the pipeline's device."""

from __future__ import annotations

import cv2
import torch

from ...config import FacesConfig
from ...faces.detector import MTCNNDetector
from ...geometry import fit_long_side, long_side_scale
from ..item import Item
from ..stage import BaseStage


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
        self.detector = None
        self.detections = 0
        self.faces_found = 0

    def start(self) -> None:
        self.detector = MTCNNDetector(self.device, min_face=self.cfg.min_face,
                                      score_min=self.cfg.score_min)

    def process(self, items: list[Item]) -> list[Item]:
        picked = [it for it in items if it.frame.index % self.cfg.every == 0]
        for it in items:
            it.faces = None
        if not picked:
            return items
        h, w = picked[0].frame.height, picked[0].frame.width
        scale = long_side_scale(h, w, self.cfg.detect_long_side)
        sh, sw = fit_long_side(h, w, self.cfg.detect_long_side)
        small = [it.frame.rgb if scale == 1.0 else cv2.resize(it.frame.rgb, (sw, sh), interpolation=cv2.INTER_AREA)
                 for it in picked]
        for it, faces in zip(picked, self.detector.detect(small)):
            it.faces = faces.scaled(1.0 / scale) if scale != 1.0 else faces
            self.detections += 1
            self.faces_found += len(faces)
        return items

    def summary(self) -> dict:
        return {"face_detections": {"frames": self.detections, "faces": self.faces_found}}
