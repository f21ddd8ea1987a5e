"""flow.estimators on synthetic motion with exact ground truth: translation and zoom."""

from __future__ import annotations

import numpy as np
import pytest

from vidstyle.config import FlowConfig
from vidstyle.flow.estimators import make_estimator, to_gray
from vidstyle.io.synth import textured


def shifted(img: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Content moved by (dx, dy): out(x) = img(x - d)."""
    return np.roll(np.roll(img, dy, axis=0), dx, axis=1)


def zoomed(img: np.ndarray, s: float) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    m = np.array([[s, 0, (1 - s) * (w - 1) / 2], [0, s, (1 - s) * (h - 1) / 2]], np.float32)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


@pytest.mark.parametrize("backend,tol", [("farneback", 0.25), ("dis", 0.5)])
def test_estimated_translation_matches_ground_truth(backend, tol):
    img = textured(160, 200, seed=1)
    prev, cur = img, shifted(img, 3, -2)
    est = make_estimator(FlowConfig(backend=backend))
    flow_bw = est(to_gray(cur, cur.shape[:2]), to_gray(prev, prev.shape[:2]))  # t -> t-1
    inner = flow_bw[20:-20, 20:-20].reshape(-1, 2)
    err = np.linalg.norm(inner - np.array([-3.0, 2.0]), axis=1)
    assert np.median(err) < tol


def test_estimated_zoom_matches_ground_truth():
    img = textured(200, 240, seed=2)
    s = 1.04
    cur = zoomed(img, s)  # cur(x) = img(c + (x - c) / s)
    est = make_estimator(FlowConfig())
    flow_bw = est(to_gray(cur, cur.shape[:2]), to_gray(img, img.shape[:2]))
    h, w = img.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    c = np.array([(w - 1) / 2, (h - 1) / 2], np.float32)
    truth = (np.stack([xs, ys], -1) - c) * (1 / s - 1)
    err = np.linalg.norm(flow_bw - truth, axis=-1)[30:-30, 30:-30]
    assert np.median(err) < 0.3 and np.abs(truth).max() > 3
