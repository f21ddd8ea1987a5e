"""faces.detector: MTCNN faces and landmarks on a camera move, on ../shared's photos, and in
batches of mixed sizes."""

from __future__ import annotations

import numpy as np
from conftest import SHARED, needs_shared
from face_helpers import needs_faces

from vidstyle.eval.faces import landmark_nme
from vidstyle.io.synth import demo_photo


def test_landmarks_follow_the_camera_move(detector, portrait_frames):
    """The eyes found in the last frame sit where the known zoom/pan carries the first frame's eyes."""
    first, last = detector.detect([portrait_frames[0], portrait_frames[-1]])
    assert len(first) == 1 and len(last) == 1
    # replay pan_zoom's affine for t = 0 and t = 1 to map first-frame points to the last frame
    ih, iw = demo_photo().shape[:2]
    base = max(240 / ih, 320 / iw)

    def to_image(p, t):
        s = base * (1.0 + 0.2 * t)
        cx, cy = iw * (0.5 + 0.06 * (t - 0.5)), ih * (0.36 + 0.03 * (t - 0.5))
        return (p - [160, 120]) / s + [cx, cy], s, (cx, cy)

    pts0, _, _ = to_image(first.landmarks[0], 0.0)
    _, s1, (cx1, cy1) = to_image(np.zeros(2), 1.0)
    predicted = (pts0 - [cx1, cy1]) * s1 + [160, 120]
    iod = np.linalg.norm(last.landmarks[0][1] - last.landmarks[0][0])
    assert landmark_nme(predicted, last.landmarks[0]) < 0.08
    eyes = last.landmarks[0][:2]
    x1, y1, x2, y2 = last.boxes[0]
    assert eyes[0, 0] < eyes[1, 0] and (eyes[:, 1] < (y1 + y2) / 2).all()  # eyes: upper half
    assert 0.25 < iod / (x2 - x1) < 0.65


@needs_shared
def test_detector_on_shared_photos(shared, detector):
    from PIL import Image

    expected = {
        "two_people.jpg": 2,
        "obama_obama.jpg": 2,
        "obama_small.jpg": 1,
        "biden_biden.jpg": 1,
        "rose_leslie_img2.jpg": 1,
    }
    for name, count in expected.items():
        img = np.array(Image.open(shared / "faces" / "photos" / name).convert("RGB"))
        (faces,) = detector.detect([img])
        assert len(faces) == count, name
        for box, marks in zip(faces.boxes, faces.landmarks):
            x1, y1, x2, y2 = box
            assert (marks[:, 0] > x1).all() and (marks[:, 0] < x2).all(), name
            assert marks[0, 0] < marks[1, 0] and marks[:2, 1].max() < marks[3:, 1].min(), name


@needs_faces
def test_mtcnn_batches_equal_sizes():
    from PIL import Image

    from vidstyle.faces.detector import Faces, MTCNNDetector

    rgb = np.array(Image.open(SHARED / "faces" / "photos" / "obama_small.jpg").convert("RGB"))
    det = MTCNNDetector()
    blank = np.zeros_like(rgb)
    single = det.detect([rgb])
    batched = det.detect([rgb, blank, rgb])
    assert len(batched) == 3 and len(batched[1]) == 0 and len(batched[0]) == 1
    assert np.allclose(batched[0].boxes, single[0].boxes, atol=1.0)
    mixed = det.detect([rgb, rgb[:100, :150]])
    assert len(mixed) == 2
    lm = batched[0].landmarks[0]
    assert lm[0, 0] < lm[1, 0] and lm[3, 0] < lm[4, 0]  # left eye / mouth left first
    assert lm[2, 1] > lm[0, 1] and lm[3, 1] > lm[2, 1]  # nose below eyes, mouth below nose
    again = Faces.from_json(batched[0].to_json())
    assert np.allclose(again.landmarks, batched[0].landmarks, atol=0.01)
    assert len(Faces.from_json(Faces.empty().to_json())) == 0
