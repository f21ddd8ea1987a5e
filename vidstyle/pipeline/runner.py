"""Run a source and a chain of stages as threads over bounded queues.

One thread per stage (plus the source's), so decoding, stylization and encoding overlap; the
bounded queues give backpressure, keeping memory flat in clip length. A stage with
``workers > 1`` runs in a thread pool with its output kept in order.

Stopping: ``request_stop()`` ends the source and lets in-flight frames drain for up to
``drain_s`` seconds before aborting; ``abort()`` (or any stage error) stops every thread at its
next queue operation. The first error is kept and re-raised by the caller.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from typing import NoReturn

from ..errors import VidstyleError
from ..io.frame import Frame
from .stage import Item, Stage, StageStats


class _Signal(Enum):
    END = "end"  # end of stream marker, passed down the queues
    ABORTED = "aborted"  # returned by _get when the run is aborted


_POLL_S = 0.1


@dataclass
class RunResult:
    frames_in: int = 0
    frames_out: int = 0
    wall_s: float = 0.0
    stopped_by: int | None = None  # signal number that requested the stop
    error: BaseException | None = None
    error_stage: str = ""
    stats: list[StageStats] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames_out / self.wall_s if self.wall_s > 0 else 0.0

    def raise_error(self) -> NoReturn:
        """Re-raise ``error``: a VidstyleError as it is, anything else as one line naming the stage."""
        err = self.error
        if isinstance(err, VidstyleError):
            raise err
        first = next((ln.strip() for ln in str(err).splitlines() if ln.strip()), "")
        raise VidstyleError(f"{self.error_stage} stage failed: {type(err).__name__}: {first}") from err


class Runner:
    """``frames`` (an iterable of Frame) -> stages[0] -> ... -> stages[-1]."""

    def __init__(
        self,
        frames: Iterable[Frame],
        stages: list[Stage],
        queue_size: int = 8,
        drain_s: float = 2.0,
        source_name: str = "decode",
        live: bool = False,
    ):
        """``live``: latency first: pull a frame only when the first queue has room (so the
        source's own buffer decides what is dropped), and give worker pools no look-ahead."""
        self.frames = frames
        self.stages = stages
        self.live = live
        self.queues: list[queue.Queue[Item | _Signal]] = [
            queue.Queue(maxsize=max(queue_size, s.batch_size)) for s in stages
        ]
        self.drain_s = drain_s
        self.stop_event = threading.Event()
        self.abort_event = threading.Event()
        self.result = RunResult(
            stats=[StageStats(source_name)] + [StageStats(s.name, max(1, s.workers)) for s in stages]
        )
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._stop_time: float | None = None

    # -- control ---------------------------------------------------------------------------
    def request_stop(self, signum: int | None = None) -> None:
        if not self.stop_event.is_set():
            self.result.stopped_by = signum
            self._stop_time = time.monotonic()
            self.stop_event.set()
            self._stop_source()

    def abort(self) -> None:
        self.abort_event.set()
        self.stop_event.set()
        self._stop_source()

    def _stop_source(self) -> None:
        """Live sources wait on the network and on free pipeline slots: wake them up."""
        stop_source = getattr(self.frames, "stop", None)
        if callable(stop_source):
            stop_source()

    def _fail(self, stage: str, exc: BaseException) -> None:
        with self._lock:
            if self.result.error is None:
                self.result.error, self.result.error_stage = exc, stage
        self.abort()

    # -- queue helpers ---------------------------------------------------------------------
    def _put(self, q: queue.Queue[Item | _Signal], item: Item | _Signal) -> bool:
        while not self.abort_event.is_set():
            try:
                q.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _get(self, q: queue.Queue[Item | _Signal]) -> Item | _Signal:
        while not self.abort_event.is_set():
            try:
                return q.get(timeout=_POLL_S)
            except queue.Empty:
                continue
        return _Signal.ABORTED

    # -- threads ---------------------------------------------------------------------------
    def _source_loop(self) -> None:
        stats = self.result.stats[0]
        out = self.queues[0] if self.queues else None
        try:
            it = iter(self.frames)
            while not self.stop_event.is_set():
                if self.live and out is not None and out.full():
                    time.sleep(0.002)
                    continue
                stats.begin()
                try:
                    frame = next(it)
                except StopIteration:
                    stats.end(0)
                    break
                stats.end(1)
                self.result.frames_in += 1
                if out is not None and not self._put(out, Item(frame)):
                    return
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            self._fail(stats.name, exc)
            return
        if out is not None:
            self._put(out, _Signal.END)

    def _stage_loop(self, k: int) -> None:
        stage, stats = self.stages[k], self.result.stats[k + 1]
        q_in = self.queues[k]
        q_out = self.queues[k + 1] if k + 1 < len(self.queues) else None

        def emit(items: list[Item]) -> bool:
            if q_out is None:  # the last stage
                self.result.frames_out += len(items)
                return True
            return all(self._put(q_out, it) for it in items)

        try:
            stage.start()
            if stage.workers > 1:
                ok = self._pool_loop(stage, stats, q_in, emit)
            else:
                ok = self._batch_loop(stage, stats, q_in, emit)
            if not ok:
                return
            stats.begin()
            tail = stage.close()
            stats.end(0)
            if emit(tail) and q_out is not None:
                self._put(q_out, _Signal.END)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            self._fail(stage.name, exc)

    def _batch_loop(
        self,
        stage: Stage,
        stats: StageStats,
        q_in: queue.Queue[Item | _Signal],
        emit: Callable[[list[Item]], bool],
    ) -> bool:
        while True:
            batch: list[Item] = []
            ended = False
            while len(batch) < stage.batch_size:
                got = self._get(q_in)
                if got is _Signal.ABORTED:
                    return False
                if got is _Signal.END:
                    ended = True
                    break
                stage.prepare(got)
                batch.append(got)
            if batch:
                stats.begin()
                out = stage.process(batch)
                stats.end(len(batch))
                if not emit(out):
                    return False
            if ended:
                return True

    def _pool_loop(
        self,
        stage: Stage,
        stats: StageStats,
        q_in: queue.Queue[Item | _Signal],
        emit: Callable[[list[Item]], bool],
    ) -> bool:
        def timed(item: Item) -> tuple[list[Item], float]:
            t0 = time.perf_counter()
            return stage.process([item]), time.perf_counter() - t0

        pending: deque = deque()

        def drain(block_until: int) -> bool:
            while pending and (pending[0].done() or len(pending) > block_until):
                out, dt = pending.popleft().result()
                stats.busy_s += dt
                stats.items += 1
                stats.calls += 1
                if not emit(out):
                    return False
            return True

        with ThreadPoolExecutor(stage.workers, thread_name_prefix=stage.name) as pool:
            try:
                while True:
                    got = self._get(q_in)
                    if got is _Signal.ABORTED:
                        return False
                    if got is _Signal.END:
                        return drain(0)
                    stage.prepare(got)
                    pending.append(pool.submit(timed, got))
                    if not drain(stage.workers - 1 if self.live else 2 * stage.workers - 1):
                        return False
            finally:
                for fut in pending:
                    fut.cancel()

    # -- run -------------------------------------------------------------------------------
    def run(self, on_tick: Callable[[RunResult], None] | None = None) -> RunResult:
        """Run to the end (or stop/abort); ``on_tick`` is called about 5x per second."""
        t0 = time.perf_counter()
        self._threads = [threading.Thread(target=self._source_loop, name="vidstyle-source", daemon=True)]
        self._threads += [
            threading.Thread(target=self._stage_loop, args=(k,), daemon=True, name=f"vidstyle-{s.name}")
            for k, s in enumerate(self.stages)
        ]
        for t in self._threads:
            t.start()
        try:
            while any(t.is_alive() for t in self._threads):
                self._threads[-1].join(timeout=0.2)
                if (
                    self._stop_time is not None
                    and not self.abort_event.is_set()
                    and time.monotonic() - self._stop_time > self.drain_s
                ):
                    self.abort()
                if on_tick is not None:
                    on_tick(self.result)
                if self.abort_event.is_set():
                    self._join_after_abort()
                    break
        finally:
            self.result.wall_s = time.perf_counter() - t0
        return self.result

    def _join_after_abort(self, timeout_s: float = 5.0) -> None:
        """Give threads a moment to notice; the sink's thread must be gone before closing it."""
        deadline = time.monotonic() + timeout_s
        for t in reversed(self._threads):
            t.join(timeout=max(0.0, deadline - time.monotonic()))
