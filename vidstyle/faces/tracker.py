"""Carry face boxes between detections so masks neither jump nor blink.

Each track holds a box (x1, y1, x2, y2 px), five landmarks and a visibility in [0, 1] that ramps
in over ``fade_frames`` when a face appears and out when it has been missed by more than ``hold``
detection rounds. Between detections a track moves with the scene: by the median optical flow
inside its box when flow is available, else it stays put. On detection frames tracks are matched
to detections greedily by IoU and pulled towards them (exponential smoothing). Faces found on the
first frame start fully visible (there is no earlier output for them to pop out of). A detection pass
that did not look for faces as small as a track (``Faces.min_side`` above the track's height /
``SEEN_MARGIN``, and not the finest pass seen so far) does not count it as missed: small faces
live through the cheap passes between small-face passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .detector import Faces

SEEN_MARGIN = 1.25  # a pass sees a track only if the track is this much larger than its min_side


@dataclass
class Track:
    id: int
    box: np.ndarray  # (4,) float32, frame px
    landmarks: np.ndarray  # (5, 2) float32, frame px
    visibility: float = 0.0
    missed: int = 0  # detection rounds in a row without a match


def _box_area(boxes: np.ndarray) -> np.ndarray:
    """Area of each (x1, y1, x2, y2) box in ``boxes`` (N x 4), pixels^2."""
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (N x 4) with every box in ``b`` (M x 4)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    return inter / np.maximum(_box_area(a)[:, None] + _box_area(b)[None, :] - inter, 1e-6)


def greedy_match(iou: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Pairs (row, col) by descending IoU, each row and column used once, IoU >= threshold."""
    pairs = []
    used_r, used_c = set(), set()
    for flat in np.argsort(-iou, axis=None):
        r, c = np.unravel_index(flat, iou.shape)
        if iou[r, c] < threshold:
            break
        if r not in used_r and c not in used_c:
            pairs.append((int(r), int(c)))
            used_r.add(r)
            used_c.add(c)
    return pairs


class FaceTracker:
    def __init__(self, iou_match: float = 0.3, smoothing: float = 0.6, fade_frames: int = 6, hold: int = 1):
        self.iou_match = iou_match
        self.smoothing = smoothing  # weight of a new detection against the prediction
        self.step_vis = 1.0 / max(fade_frames, 1)
        self.hold = hold
        self.tracks: list[Track] = []
        self._next_id = 0
        self._finest = float("inf")  # the smallest min_side of any pass so far (frame px)
        self._frames = 0

    def update(
        self, detections: Faces | None, motion: np.ndarray | None = None, motion_scale: float = 1.0
    ) -> list[Track]:
        """Advance one frame and return the visible tracks.

        ``detections``: this frame's faces (frame px), or None between detection frames.
        ``motion``: H' x W' x 2 field of how content moved from the previous frame to this one,
        in px of a grid ``motion_scale`` times smaller than the frame; None to hold position.
        """
        if motion is not None:
            self._move(motion, motion_scale)
        first = self._frames == 0
        self._frames += 1
        if detections is not None:
            self._associate(detections)
            if first:
                for t in self.tracks:
                    t.visibility = 1.0
        for t in self.tracks:
            if t.missed <= self.hold:
                t.visibility = min(1.0, t.visibility + self.step_vis)
            else:
                t.visibility = max(0.0, t.visibility - self.step_vis)
        self.tracks = [t for t in self.tracks if t.visibility > 0 or t.missed <= self.hold]
        return [t for t in self.tracks if t.visibility > 0]

    def _move(self, motion: np.ndarray, scale: float) -> None:
        h, w = motion.shape[:2]
        for t in self.tracks:
            x1, y1, x2, y2 = np.clip(np.round(t.box / scale), 0, [w - 1, h - 1, w - 1, h - 1]).astype(int)
            region = motion[y1 : y2 + 1, x1 : x2 + 1].reshape(-1, 2)
            if len(region):
                d = np.median(region, axis=0).astype(np.float32) * scale
                t.box = t.box + np.tile(d, 2)
                t.landmarks = t.landmarks + d

    def _associate(self, det: Faces) -> None:
        boxes = np.array([t.box for t in self.tracks], np.float32).reshape(-1, 4)
        pairs = greedy_match(iou_matrix(boxes, det.boxes), self.iou_match)
        s = self.smoothing
        matched_t, matched_d = {r for r, _ in pairs}, {c for _, c in pairs}
        for r, c in pairs:
            t = self.tracks[r]
            t.box = s * det.boxes[c] + (1 - s) * t.box
            t.landmarks = s * det.landmarks[c] + (1 - s) * t.landmarks
            t.missed = 0
        self._finest = min(self._finest, det.min_side)
        finest = det.min_side <= self._finest
        for i, t in enumerate(self.tracks):
            if i not in matched_t and (finest or t.box[3] - t.box[1] >= SEEN_MARGIN * det.min_side):
                t.missed += 1
        for c in range(len(det)):
            if c not in matched_d:
                self.tracks.append(Track(self._next_id, det.boxes[c].copy(), det.landmarks[c].copy()))
                self._next_id += 1
