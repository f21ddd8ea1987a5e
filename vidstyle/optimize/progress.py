"""Two progress bars for an optimization job: frames (x passes) and this frame's iterations,
the latter showing the current loss terms."""

from __future__ import annotations

import sys

from tqdm import tqdm

from ..log import progress_enabled


class OptimizeProgress:
    """``mode``: ``run.progress`` (on, off, auto); ``frames`` of the input (0: unknown), run
    ``passes`` times; ``iters``: a frame's iteration budget."""

    def __init__(self, mode: str, frames: int, passes: int, iters: int):
        self.enabled = progress_enabled(mode)
        self.frames = self._bar((frames * passes) or None, "frame", "frames", 0)
        self.iters = self._bar(iters, "it", "iterations", 1)
        self.passes = passes
        self._open = False
        self.last: dict[str, float] = {}

    def begin(self, index: int, pass_no: int = 1, resumed: bool = False, iters: int | None = None) -> None:
        """A new frame starts (the previous one, if any, is finished); ``iters``: its budget."""
        self._finish_frame()
        where = f"frame {index}" + (f", pass {pass_no}/{self.passes}" if self.passes > 1 else "")
        self.frames.set_description(where + (" (resumed)" if resumed else ""), refresh=False)
        self.iters.reset(total=iters or self.iters.total)
        self._open = True

    def iteration(self, i: int, terms: dict[str, float]) -> None:
        self.last = terms
        self.iters.update(i - self.iters.n)
        self.iters.set_postfix_str(" ".join(f"{k} {v:.3g}" for k, v in terms.items()), refresh=False)

    def skip(self, frames: int) -> None:
        """Frames finished by an earlier run of the same job."""
        self.frames.update(frames)

    def _finish_frame(self) -> None:
        if self._open:
            self.frames.update(1)
            self._open = False

    def close(self) -> None:
        self._finish_frame()
        self.iters.close()
        self.frames.close()

    def _bar(self, total: int | None, unit: str, desc: str, position: int) -> tqdm:
        return tqdm(
            total=total,
            unit=unit,
            desc=desc,
            position=position,
            disable=not self.enabled,
            dynamic_ncols=True,
            file=sys.stderr,
            leave=False,
        )
