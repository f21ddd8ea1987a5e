"""Side-by-side comparison video: original | per-frame | stabilised, labelled, for people to look at."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from ..config import EncodeConfig
from .frame import Frame, VideoInfo
from .sink import VideoFileSink

LABELS = ("original", "per-frame", "stabilised")


class CompareSink:
    """Writes the three panels side by side, scaled so the mosaic is at most ``max_width`` wide.

    Like a :class:`~vidstyle.io.sink.FrameSink` (also as a context manager), but ``write`` takes
    the list of panels (H x W x 3 uint8 each) for the picture.
    """

    def __init__(self, path: Path, info: VideoInfo, cfg: EncodeConfig, max_width: int = 1920):
        scale = min(1.0, max_width / (3 * info.width))
        self.tile = (max(2, int(info.height * scale) // 2 * 2), max(2, int(info.width * scale) // 2 * 2))
        mosaic = replace(info, width=3 * self.tile[1], height=self.tile[0])
        self.inner = VideoFileSink(path, mosaic, cfg)

    def write(self, frame: Frame, panels: list[np.ndarray]) -> None:
        h, w = self.tile
        tiles = []
        for label, rgb in zip(LABELS, panels):
            tile = rgb if rgb.shape[:2] == (h, w) else cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
            tile = np.ascontiguousarray(tile)
            size = max(0.4, h / 600)
            cv2.putText(
                tile,
                label,
                (8, int(24 * size / 0.6)),
                cv2.FONT_HERSHEY_SIMPLEX,
                size,
                (0, 0, 0),
                4,
                cv2.LINE_AA,
            )
            cv2.putText(
                tile,
                label,
                (8, int(24 * size / 0.6)),
                cv2.FONT_HERSHEY_SIMPLEX,
                size,
                (255, 255, 255),
                1,
                cv2.LINE_AA,
            )
            tiles.append(tile)
        self.inner.write(frame, np.hstack(tiles))

    @property
    def frames_written(self) -> int:
        return self.inner.frames_written

    @property
    def closed(self) -> bool:
        return self.inner.closed

    def close(self, complete: bool = True) -> Path | None:
        return self.inner.close(complete)

    def abort(self) -> None:
        self.inner.abort()

    def __enter__(self) -> CompareSink:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.inner.__exit__(exc_type, *exc)
