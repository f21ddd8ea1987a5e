"""A stylizer that starts on one engine and hands over to a faster one of the same precision once
that is ready (a first run: torch fp32 until the background ONNX export appears, then ONNX Runtime
fp32, whose output matches to float rounding: no visible change).

The switch happens between calls: a call runs whole on the engine that was current when it
began, so no frame is lost or stylized twice, and concurrent workers are safe (one of them checks,
at most every ``every_s`` seconds, without blocking the others).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import torch

from ..errors import VidstyleError
from ..log import log
from .base import Stylizer

Poll = Callable[[], "Stylizer | None"]  # the next engine when it is ready, None until then


class Handover:
    """Runs ``first`` until ``ready()`` returns the engine to go on with (then that one).

    ``ready`` raising a VidstyleError or OSError ends the waiting with a warning: the run goes on
    with ``first``. ``name``, ``device``, ``precision`` and the memory figure are ``first``'s
    (what the run's plan and log were made with); :attr:`current` is the engine in use.
    """

    def __init__(
        self,
        first: Stylizer,
        ready: Poll,
        what: str,
        every_s: float = 0.5,
        begin: Callable[[], object] | None = None,
    ):
        """``what`` names the next engine in the warning and the debug line; ``begin`` (e.g.
        launching the build of the next engine) runs once, after the first call has returned its
        frames, so that it does not delay them."""
        self.current: Stylizer = first
        self.name, self.device, self.precision = first.name, first.device, first.precision
        self.activation_bytes_per_px = first.activation_bytes_per_px
        self.switched_after = 0  # frames stylized before the switch (0: not switched)
        self._ready: Poll | None = ready
        self._what = what
        self._every_s = every_s
        self._next_check = 0.0
        self._frames = 0
        self._begin = begin
        self._checking = threading.Lock()
        self._counting = threading.Lock()

    @property
    def waiting(self) -> bool:
        """Whether the next engine may still come."""
        return self._ready is not None

    def __call__(self, batch: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        if self._ready is not None and self._begin is None and time.monotonic() >= self._next_check:
            self._check()
        engine = self.current  # one engine for the whole call
        out = engine(batch, style)
        with self._counting:
            self._frames += batch.shape[0]
            begin, self._begin = self._begin, None
        if begin is not None:
            self._start(begin)
        return out

    def _start(self, begin: Callable[[], object]) -> None:
        try:
            begin()
        except (VidstyleError, OSError) as exc:
            with self._checking:
                self._give_up(exc)

    def _check(self) -> None:
        if not self._checking.acquire(blocking=False):  # another worker is checking
            return
        try:
            ready = self._ready
            if ready is None:
                return
            self._next_check = time.monotonic() + self._every_s
            try:
                engine = ready()
            except (VidstyleError, OSError) as exc:
                self._give_up(exc)
                return
            if engine is not None:
                self._ready = None
                self.current, self.switched_after = engine, self._frames
                log.debug(f"switched to {engine.name} after {self._frames} frames")
        finally:
            self._checking.release()

    def _give_up(self, exc: Exception) -> None:
        """The next engine will not come: stay on this one, and say why (holds ``_checking``)."""
        self._ready = None
        log.warning(f"{self._what} is not available ({exc}); going on with {self.name}")
