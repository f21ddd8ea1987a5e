"""faces.passes: the regular and the small-face detection passes, their schedule and scale."""

from __future__ import annotations

import numpy as np

from vidstyle.faces.detector import Faces
from vidstyle.faces.passes import DetectionPasses


class CountingDetector:
    """Records the image size and min_face of every call; finds nothing (scheduling only)."""

    def __init__(self):
        self.calls = []

    def detect(self, images, min_face=None):
        self.calls.append((images[0].shape[:2], len(images), min_face))
        return [Faces.empty() for _ in images]


def test_small_face_pass_schedule_and_scale():
    det = CountingDetector()
    passes = DetectionPasses(det, long_side=640, min_face=24, small_face=12, small_every=10)
    frame = np.zeros((720, 1280, 3), np.uint8)
    assert passes.regular_floor(720, 1280) == 48  # 24 px at half size
    found = passes.detect([0, 5], [frame, frame])
    assert [f.min_side for f in found] == [12, 48]  # frame 0: small-face pass at full size
    assert det.calls == [((360, 640), 1, 24), ((720, 1280), 1, 12.0)]
    for i in (10, 15, 20, 25):  # no small face seen: 3x rarer
        passes.detect([i], [frame])
    assert passes.small_passes == 1
    passes.detect([30], [frame])
    assert passes.small_passes == 2
    small_only = DetectionPasses(det, long_side=640, min_face=24, small_face=0)
    assert small_only.small_plan(720, 1280) is None  # off
    assert (
        DetectionPasses(det, 640, 12, 12).small_plan(360, 640) is None
    )  # the regular pass already finds 12 px
