"""people.tracker: person ids over time, with and without faces, and masks carried between
segmentations (the last test runs MediaPipe on a synthetic clip)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from conftest import decode_rgb
from people_helpers import needs_mediapipe, people_clip

from vidstyle.people.segmenter import SelfieSegmenter
from vidstyle.people.tracker import PersonTracker


@dataclass
class FakeTrack:
    id: int
    box: np.ndarray


def blob_prob(h: int, w: int, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    prob = np.zeros((h, w), np.float32)
    for x1, y1, x2, y2 in boxes:
        prob[y1:y2, x1:x2] = 1.0
    return prob


def test_two_people_keep_their_ids_while_moving_and_without_faces():
    tracker = PersonTracker(smoothing=0.5, feather_px=1.0)
    h, w = 60, 120
    seen = []
    for t in range(12):
        a = (10 + t, 10, 30 + t, 60)  # person A moves right
        b = (80 - t, 10, 100 - t, 60)  # person B moves left
        prob = blob_prob(h, w, [a, b])
        # faces only on the first frames (then they turn away: the carried masks hold the ids)
        tracks = (
            [
                FakeTrack(7, np.array([a[0] + 5, 10, a[2] - 5, 20], np.float32)),
                FakeTrack(3, np.array([b[0] + 5, 10, b[2] - 5, 20], np.float32)),
            ]
            if t < 4
            else []
        )
        flow = torch.zeros(1, 2, h, w)
        flow[0, 0, :, : w // 2] = -1.0  # content moved right by 1 px on the left half, t -> t-1
        flow[0, 0, :, w // 2 :] = 1.0
        people = tracker.update(
            prob, tracks, flow if t else None, torch.ones(1, 1, h, w) if t else None, (h, w)
        )
        ys = 40
        seen.append((int(people.labels[ys, (a[0] + a[2]) // 2]), int(people.labels[ys, (b[0] + b[2]) // 2])))
    assert all(s == (1, 2) for s in seen), seen  # left person first, ids never switch
    assert tracker.id_history == [1, 2]


def test_a_returning_face_inherits_the_carried_person():
    tracker = PersonTracker(smoothing=0.0)
    prob = blob_prob(40, 40, [(10, 5, 30, 40)])
    face = np.array([14, 5, 26, 15], np.float32)
    tracker.update(prob, [FakeTrack(0, face)], None, None, (40, 40))
    tracker.update(prob, [], None, None, (40, 40))
    people = tracker.update(
        prob, [FakeTrack(5, face)], None, None, (40, 40)
    )  # the tracker lost it: new track id
    assert people.ids == [1] and tracker.id_history == [1]


def test_faceless_person_gets_an_id_and_masks_are_carried_between_segmentations():
    tracker = PersonTracker(smoothing=0.5)
    h, w = 40, 80
    prob = blob_prob(h, w, [(10, 5, 30, 40)])
    first = tracker.update(prob, [], None, None, (h, w))
    assert first.ids == [1]
    flow = torch.zeros(1, 2, h, w)
    flow[:, 0] = -4.0  # everything moved 4 px right
    carried = tracker.update(None, [], flow, torch.ones(1, 1, h, w), (h, w))
    assert carried.ids == [1]
    assert carried.labels[20, 32] == 1 and carried.labels[20, 11] == 0


def test_a_face_printed_on_a_shirt_does_not_split_its_wearer():
    tracker = PersonTracker(smoothing=0.0)
    prob = blob_prob(80, 60, [(10, 0, 50, 80)])
    head = FakeTrack(0, np.array([20, 2, 40, 20], np.float32))
    print_on_shirt = FakeTrack(1, np.array([16, 36, 44, 70], np.float32))  # larger than the face
    people = tracker.update(prob, [head, print_on_shirt], None, None, (80, 60))
    assert people.ids == [1] and tracker.id_history == [1]
    side_by_side = PersonTracker(smoothing=0.0)
    two = side_by_side.update(
        blob_prob(80, 120, [(0, 0, 50, 80), (60, 0, 110, 80)]),
        [head, FakeTrack(2, np.array([75, 2, 95, 20], np.float32))],
        None,
        None,
        (80, 120),
    )
    assert two.ids == [1, 2]


@needs_mediapipe
def test_masks_follow_the_moving_person_between_segmentations(tmp_path, cutout):
    """Segment every 3rd frame; the frames between are the previous masks carried by the flow."""
    from vidstyle.config import FlowConfig
    from vidstyle.flow.estimators import flow_size, make_estimator, to_gray
    from vidstyle.people.tracker import PersonTracker

    clip, truth = people_clip(tmp_path / "walk.mp4", cutout, [30], [6], n=12)
    frames = decode_rgb(clip)
    segmenter = SelfieSegmenter(long_side=256)
    estimator = make_estimator(FlowConfig())
    tracker = PersonTracker(smoothing=0.5)
    prev = None
    ious = []
    for t, rgb in enumerate(frames):
        gray = to_gray(rgb, flow_size(*rgb.shape[:2], 480))
        flow = (
            None if prev is None else torch.from_numpy(estimator(gray, prev).transpose(2, 0, 1).copy())[None]
        )
        prob = segmenter(rgb) if t % 3 == 0 else None
        people = tracker.update(
            prob,
            [],
            flow,
            None if flow is None else torch.ones_like(flow[:, :1]),
            rgb.shape[:2],
            seg_hw=segmenter.input_size(*rgb.shape[:2]),
        )
        prev = gray
        mask = cv2.resize(people.masks.sum(0), rgb.shape[1::-1]) > 0.5
        gt = truth[t] > 0.5
        ious.append((mask & gt).sum() / (mask | gt).sum())
    segmenter.close()
    assert min(ious) > 0.85, np.round(ious, 3)
    assert tracker.id_history == [1]
