"""Person masks: segmentation (MediaPipe, optional), one region per person seeded by the tracked
faces, ids kept across frames, masks carried along the optical flow, and per-region looks."""

from .instances import ANONYMOUS
from .styles import BLUR, ORIGINAL, PeoplePlan
from .tracker import PersonMasks, PersonTracker

__all__ = ["ANONYMOUS", "BLUR", "ORIGINAL", "PeoplePlan", "PersonMasks", "PersonTracker"]
