"""What the face tests share: an MTCNN detector, a camera move over a portrait (Grace Hopper's,
it ships with matplotlib), a one-face detection, and the mark for tests that need ../shared's
face photos and recognition weights."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SHARED

from vidstyle.faces.detector import Faces, MTCNNDetector
from vidstyle.io.synth import demo_photo, pan_zoom


@pytest.fixture(scope="module")
def detector():
    return MTCNNDetector(min_face=20)


@pytest.fixture(scope="module")
def portrait_frames():
    """A camera move over Grace Hopper's portrait (ships with matplotlib: no ../shared needed)."""
    return list(pan_zoom(demo_photo(), 10, (240, 320), zoom=(1.0, 1.2), pan=(0.06, 0.03), center=(0.5, 0.36)))


def one_face(box, landmarks) -> Faces:
    return Faces(np.array([box], np.float32), np.array([landmarks], np.float32), np.array([0.99], np.float32))


needs_faces = pytest.mark.skipif(
    SHARED is None or not (SHARED / "faces" / "recognition_net").is_dir(),
    reason="face photos and recognition weights are in ../shared/data/faces (set VIDSTYLE_SHARED)",
)
