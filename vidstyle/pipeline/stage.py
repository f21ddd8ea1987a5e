"""The Stage protocol, its defaults, and per-stage statistics."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from .item import Item


class Stage(Protocol):
    """A step of the pipeline, run in its own thread by the runner.

    ``process`` gets up to ``batch_size`` items in order and returns the items to pass on (in
    order; it may hold some back and return them from a later call or from ``close``).
    With ``workers > 1`` the runner calls ``process([item])`` concurrently from a pool and keeps
    the order; such a stage keeps its sequential state in ``prepare``, which the runner calls for
    every item in order before handing it to ``process``. ``summary`` feeds the run report.
    """

    name: str
    batch_size: int
    workers: int

    def start(self) -> None: ...

    def prepare(self, item: Item) -> None: ...

    def process(self, items: list[Item]) -> list[Item]: ...

    def close(self) -> list[Item]: ...

    def summary(self) -> dict: ...


class BaseStage:
    """Defaults for the Stage protocol: per-frame, single worker, nothing to start or flush."""

    name = "stage"
    batch_size = 1
    workers = 1

    def start(self) -> None:
        pass

    def prepare(self, item: Item) -> None:
        pass

    def process(self, items: list[Item]) -> list[Item]:
        raise NotImplementedError

    def close(self) -> list[Item]:
        return []

    def summary(self) -> dict:
        return {}


@dataclass
class StageStats:
    """Busy time and item count of one stage (busy = inside process/close, or decoding).

    With ``workers`` > 1 the busy seconds of all workers add up; throughput and share account
    for the workers running side by side.
    """

    name: str
    workers: int = 1
    items: int = 0
    busy_s: float = 0.0
    calls: int = 0
    _t0: float = 0.0

    def begin(self) -> None:
        self._t0 = time.perf_counter()

    def end(self, items: int) -> None:
        self.busy_s += time.perf_counter() - self._t0
        self.items += items
        self.calls += 1

    @property
    def fps(self) -> float:
        """Throughput the stage would reach on its own (items per busy second, all workers)."""
        return self.items * self.workers / self.busy_s if self.busy_s > 0 else float("inf")

    def to_dict(self, wall_s: float) -> dict:
        return {
            "stage": self.name,
            "workers": self.workers,
            "items": self.items,
            "busy_s": round(self.busy_s, 4),
            "fps": round(self.fps, 2) if self.busy_s > 0 else None,
            "busy_share": round(self.busy_s / (wall_s * self.workers), 4) if wall_s > 0 else None,
        }
