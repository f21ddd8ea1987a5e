"""faces.tracker: tracks that hold between detections, follow the motion, fade in and out, and
outlive passes too coarse to see them."""

from __future__ import annotations

import numpy as np
import pytest
from face_helpers import one_face

from vidstyle.faces.detector import Faces
from vidstyle.faces.tracker import FaceTracker


def test_tracker_holds_moves_and_fades():
    det = one_face([10, 10, 30, 40], [[15, 20], [25, 20], [20, 27], [16, 33], [24, 33]])
    assert FaceTracker(fade_frames=4).update(det)[0].visibility == 1.0  # there from the first frame
    tracker = FaceTracker(fade_frames=4, hold=1)
    assert tracker.update(Faces.empty()) == []
    tracks = tracker.update(det)
    assert len(tracks) == 1 and tracks[0].visibility == pytest.approx(0.25)  # a newcomer fades in
    for _ in range(3):
        tracks = tracker.update(None)  # between detections: kept
    assert len(tracks) == 1 and tracks[0].visibility == 1.0
    motion = np.zeros((25, 25, 2), np.float32)
    motion[..., 0] = 2.0  # content moved 2 px (at half scale) right
    tracks = tracker.update(None, motion, motion_scale=2.0)
    assert tracks[0].box[0] == pytest.approx(14.0) and tracks[0].landmarks[0, 0] == pytest.approx(19.0)
    moved = one_face([15, 10, 35, 40], [[20, 20], [30, 20], [25, 27], [21, 33], [29, 33]])
    tracks = tracker.update(moved)  # matched: same id, pulled towards it
    assert len(tracks) == 1 and tracks[0].id == 0 and 14 < tracks[0].box[0] <= 15
    tracker.update(Faces.empty())  # one miss: held (hold=1)
    assert tracker.update(None)[0].visibility == 1.0
    tracker.update(Faces.empty())  # second miss: fades out over 4 frames
    vis = [t.visibility for t in tracker.update(None)]
    for _ in range(4):
        tracks = tracker.update(None)
    assert vis and 0 < vis[0] < 1 and tracks == [] and tracker.tracks == []


def test_tracks_of_small_faces_live_through_coarse_passes():
    tracker = FaceTracker(fade_frames=1, hold=0)
    small = one_face([10, 10, 24, 26], [[13, 15], [20, 15], [17, 19], [14, 22], [20, 22]])
    small.min_side = 12.0
    assert len(tracker.update(small)) == 1
    coarse = Faces.empty()
    coarse.min_side = 48.0
    for _ in range(5):  # passes that cannot see a 16 px face: kept
        assert len(tracker.update(coarse)) == 1
    fine = Faces.empty()
    fine.min_side = 12.0
    tracker.update(fine)  # the finest pass misses it: gone (hold 0)
    assert tracker.update(None) == []
