"""Optical-flow estimators on grey frames (OpenCV): Farneback, and DIS as the fast option.

``estimator(a, b)`` maps two H x W uint8 grey frames to an H x W x 2 float32 flow in pixels on
``a``'s grid pointing into ``b``: ``a(x) ~ b(x + flow(x))`` (OpenCV's convention). Frame t's
backward flow (t -> t-1, used to warp frame t-1 onto frame t) is ``estimator(gray[t], gray[t-1])``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

import cv2
import numpy as np

from ..config import FlowConfig
from ..geometry import fit_long_side


class FlowEstimator(Protocol):
    name: str

    def __call__(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray: ...


class FarnebackFlow:
    """cv2.calcOpticalFlowFarneback with the parameters from ``flow.farneback``."""

    name = "farneback"

    def __init__(self, cfg: FlowConfig):
        f = cfg.farneback
        self.args = (f.pyr_scale, f.levels, f.winsize, f.iterations, f.poly_n, f.poly_sigma, 0)

    def __call__(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        return cv2.calcOpticalFlowFarneback(prev, nxt, None, *self.args)


class DISFlow:
    """OpenCV's Dense Inverse Search (Kroeger et al. 2016): several times faster than Farneback."""

    name = "dis"
    _PRESETS = {
        "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
        "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
        "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
    }

    def __init__(self, cfg: FlowConfig):
        self.preset = self._PRESETS[cfg.dis_preset]
        self._local = threading.local()  # DIS objects keep state: one per worker thread

    def __call__(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        dis = getattr(self._local, "dis", None)
        if dis is None:
            dis = self._local.dis = cv2.DISOpticalFlow.create(self.preset)
        return dis.calc(prev, nxt, None)  # type: ignore[call-overload]  # stubs lack None (a new flow)


ESTIMATORS: dict[str, Callable[[FlowConfig], FlowEstimator]] = {"farneback": FarnebackFlow, "dis": DISFlow}


def make_estimator(cfg: FlowConfig) -> FlowEstimator:
    return ESTIMATORS[cfg.backend](cfg)


def flow_size(h: int, w: int, long_side: int) -> tuple[int, int]:
    """Flow size: the long side scaled to ``long_side`` (never enlarged; 0 = unchanged), >= 8 px."""
    return fit_long_side(h, w, long_side, min_side=8)


def to_gray(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """RGB uint8 -> grey uint8 at ``size`` (H, W), area-averaged when shrinking."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if gray.shape != tuple(size):
        gray = cv2.resize(gray, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return gray
