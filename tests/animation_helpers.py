"""Animated GIF, APNG and WebP files of four different frames with unequal durations, and their
timing as Pillow reads it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

DURATIONS = [40, 80, 120, 40]  # ms, unequal on purpose
STARTS = [0, 40, 120, 240]  # ms: their running sums
SAVE = {".gif": {}, ".png": {}, ".webp": {"lossless": True}}


def frames(n: int = 4, h: int = 48, w: int = 64) -> list[Image.Image]:
    """n clearly different 64x48 pictures: a colour per frame and a bar that moves down."""
    out = []
    for i in range(n):
        rgb = np.zeros((h, w, 3), np.uint8)
        rgb[..., i % 3] = 60 + 40 * i
        rgb[i * 8 : i * 8 + 10] = 255
        out.append(Image.fromarray(rgb))
    return out


def animated(path: Path, durations=DURATIONS, loop: int = 0) -> Path:
    pictures = frames(len(durations))
    pictures[0].save(
        path,
        save_all=True,
        append_images=pictures[1:],
        duration=list(durations),
        loop=loop,
        **SAVE[path.suffix],
    )
    return path


def pillow_timing(path: Path) -> tuple[int, list[float], object]:
    """(frames, durations in ms, loop) of an animated image as Pillow reads it."""
    with Image.open(path) as im:
        durations = []
        for k in range(getattr(im, "n_frames", 1)):
            im.seek(k)
            im.load()
            durations.append(im.info.get("duration"))
        return len(durations), durations, im.info.get("loop")
