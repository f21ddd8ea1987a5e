"""What flows out of a source: decoded frames with their timing, and the stream's description."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np


@dataclass
class Frame:
    """One decoded picture, upright (rotation metadata already applied).

    ``rgb``: H x W x 3 uint8, RGB. ``pts`` counts ``time_base`` units (None when unknown).
    ``name``: source file name for image inputs (used to name image outputs).
    ``duration``: how long the frame shows, in ``time_base`` units, when the source states it
    per frame (animated GIF, APNG and WebP; None otherwise: the next frame's pts tells).
    """

    index: int
    rgb: np.ndarray
    pts: int | None
    time_base: Fraction
    name: str = ""
    capture_time: float = 0.0  # time.monotonic() when the frame left the decoder
    duration: int | None = None

    @property
    def time(self) -> float | None:
        """Presentation time in seconds."""
        return None if self.pts is None else float(self.pts * self.time_base)

    @property
    def height(self) -> int:
        return self.rgb.shape[0]

    @property
    def width(self) -> int:
        return self.rgb.shape[1]


@dataclass
class VideoInfo:
    """What the sink needs to reproduce the source's geometry and timing.

    ``width`` x ``height`` are the upright (displayed) size. ``rate`` is the exact rational frame
    rate (None for image sets without one); ``time_base`` the unit of the frames' pts.
    ``frames`` is the container's frame count when it states one (0 when unknown).
    """

    width: int
    height: int
    rate: Fraction | None
    time_base: Fraction
    frames: int = 0
    duration: float | None = None
    rotation: int = 0
    path: Path | None = None
    container: str = ""
    codec: str = ""
    kind: str = "video"  # "video" | "images" | "stream"
    audio_streams: int = 0
    notes: list[str] = field(default_factory=list)
    # --start/--duration: source time (s) that becomes time 0 of the output, and whether the
    # output is a cut of the source (then audio is cut with the video)
    clip_start: float = 0.0
    clipped: bool = False
    # FFmpeg colour tags of the source (AVCOL_* values); None when the source leaves them unset,
    # in which case RGB<->YUV uses FFmpeg's default matrices both ways.
    colorspace: int | None = None
    color_primaries: int | None = None
    color_trc: int | None = None
    # animated-image outputs (.gif, .png, .webp): Pillow's ``loop`` of an animated input (0 =
    # forever, N = its count), None when it plays once (a GIF without a loop block); videos loop
    loop: int | None = 0
