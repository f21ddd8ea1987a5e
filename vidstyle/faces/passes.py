"""Which detection pass runs on a detection frame, and running it in frame pixels.

Two passes:

* **regular**: the frame scaled to ``long_side`` (0: full size), faces from ``min_face`` px of
  that image, so from ``min_face / scale`` frame px. Cheap; finds close-ups.
* **small-face**: the frame at full size (scaled down only beyond ``SMALL_MAX_SIDE``), faces from
  ``small_face`` frame px (12 px is MTCNN's smallest cell). It replaces the regular pass on
  its frames. It runs on the first detection frame, then every ``small_every`` frames while
  faces the regular pass cannot see (or barely) are in view, and every ``IDLE_FACTOR`` x
  ``small_every`` frames while there are none, to find newcomers. Between its runs the tracker
  keeps small faces: a pass does not count a face smaller than its ``Faces.min_side`` as missed.

The small-face pass costs about (full size / detection size)^2 regular passes (x4 for 720p
detected at 640), spread over ``small_every`` frames.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..geometry import fit_long_side, long_side_scale
from .detector import FaceDetector, Faces

SMALL_MAX_SIDE = 1920  # the small-face pass scales larger frames down to this long side
IDLE_FACTOR = 3  # small-face passes are this many times rarer while no small face is seen
NEAR_FLOOR = 1.5  # a face under NEAR_FLOOR x the regular pass's floor counts as small


def _resized(rgb: np.ndarray, long_side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    sh, sw = fit_long_side(h, w, long_side)
    return rgb if (sh, sw) == (h, w) else cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)


def _heights(faces: Faces) -> np.ndarray:
    """Box heights (px) of ``faces``, shape (N,)."""
    return faces.boxes[:, 3] - faces.boxes[:, 1]


class DetectionPasses:
    """Runs the regular or the small-face pass on each detection frame (see the module doc)."""

    def __init__(
        self,
        detector: FaceDetector,
        long_side: int,
        min_face: int,
        small_face: int = 0,
        small_every: int = 10,
    ):
        self.detector = detector
        self.long_side, self.min_face = long_side, min_face
        self.small_face, self.small_every = small_face, small_every
        self.last_small: int | None = None
        self.small_in_view = False
        self.small_passes = 0

    def regular_floor(self, h: int, w: int) -> float:
        """Smallest face (frame px) the regular pass finds."""
        return self.min_face / long_side_scale(h, w, self.long_side)

    def small_plan(self, h: int, w: int) -> tuple[float, float] | None:
        """(scale, min face in that image's px) of the small-face pass, None when it finds nothing
        the regular pass would not."""
        if not self.small_face:
            return None
        scale = long_side_scale(h, w, SMALL_MAX_SIDE)
        min_px = max(12.0, self.small_face * scale)
        if min_px / scale >= self.regular_floor(h, w):
            return None
        return scale, min_px

    def is_small_pass(self, index: int, h: int, w: int) -> bool:
        if self.small_plan(h, w) is None:
            return False
        if self.last_small is None:
            return True
        period = self.small_every * (1 if self.small_in_view else IDLE_FACTOR)
        return index - self.last_small >= period

    def detect(self, indices: list[int], frames: list[np.ndarray]) -> list[Faces]:
        """Faces (frame px) of each detection frame ``frames[i]`` (RGB uint8), frame ``indices[i]``."""
        if not frames:
            return []
        h, w = frames[0].shape[:2]
        small = []
        for i in indices:
            small.append(self.is_small_pass(i, h, w))
            if small[-1]:
                self.last_small = i
        plan = self.small_plan(h, w)  # not None whenever a frame is in the small-face pass
        by_frame: dict[int, Faces] = {}
        reg = [k for k, s in enumerate(small) if not s]
        if reg:
            scale = long_side_scale(h, w, self.long_side)
            found = self.detector.detect([_resized(frames[k], self.long_side) for k in reg], self.min_face)
            for k, faces in zip(reg, found):
                faces.min_side = float(self.min_face)
                by_frame[k] = faces.scaled(1.0 / scale) if scale != 1.0 else faces
        sml = [k for k, s in enumerate(small) if s]
        if sml and plan is not None:
            scale, min_px = plan
            found = self.detector.detect([_resized(frames[k], SMALL_MAX_SIDE) for k in sml], min_px)
            for k, faces in zip(sml, found):
                faces.min_side = float(min_px)
                by_frame[k] = faces.scaled(1.0 / scale) if scale != 1.0 else faces
            self.small_passes += len(sml)
        floor = NEAR_FLOOR * self.regular_floor(h, w)
        if any(len(by_frame[k]) and (_heights(by_frame[k]) < floor).any() for k in reg):
            self.small_in_view = True  # faces at the regular pass's floor: smaller ones are likely
        latest = max(range(len(frames)), key=lambda k: (small[k], indices[k])) if sml else None
        if latest is not None:  # the newest small-face pass says whether small faces are around
            self.small_in_view = bool((_heights(by_frame[latest]) < floor).any())
        return [by_frame[k] for k in range(len(frames))]
