"""The chunk worker: a Ray actor that holds a loaded model and stylizes one chunk per call.

The worker decodes its own frame range (plus the warm-up frames before it) straight from the
source file, runs the real pipeline stages, drops the warm-up frames at the sink, and encodes a
video-only MP4 segment. Only small descriptions (paths, numbers) cross Ray; frames never do.
A file that is one chunk is stylized exactly like ``vidstyle stylize`` (audio included).
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from ..config import PipelineConfig, load_yaml_text
from ..configtools import override
from ..errors import VidstyleError
from ..io.frame import Frame
from ..io.sink import CONTAINERS, FrameSink, VideoFileSink
from ..io.source import VideoFileSource
from ..log import log
from ..pipeline.api import Pipeline
from ..pipeline.memory import MemoryPlan
from ..pipeline.runner import Runner
from .plan import Chunk

SEGMENT_SUFFIX = ".mp4"  # MP4 segments remux cleanly (MKV segments lose their first keyframe)
KILL_ONCE_ENV = "VIDSTYLE_TEST_KILL_CHUNK"  # test hook: "N" kills the worker on chunk N's first try


@dataclass
class ChunkJob:
    """What a worker needs for one chunk; ``whole`` = the file is one chunk (write ``target``
    like stylize does, audio included), else ``target`` is a video-only segment."""

    key: str  # progress key, unique per (file, chunk)
    source: Path
    target: Path
    chunk: Chunk
    whole: bool
    final_suffix: str  # the final output's extension (picks the codec: .webm -> VP9)
    attempts_file: Path  # one line per attempt: retries are counted from it
    kill_once: bool = False  # test hook (see KILL_ONCE_ENV)


@dataclass
class ChunkResult:
    key: str
    target: Path
    frames: int
    seconds: float
    attempts: int
    started: float  # time.time() when this attempt began
    warnings: list[str] = field(default_factory=list)


def worker_config(cfg: PipelineConfig, cpus: float) -> PipelineConfig:
    """Size a CPU worker to its Ray reservation: ``cpus`` stylizer calls in parallel, one thread each."""
    cores = max(1, int(cpus))
    if cfg.model.workers == 0:
        cfg = override(cfg, "model.workers", cores)
    if cfg.model.threads == 0:
        cfg = override(cfg, "model.threads", 1)
    return override(cfg, "flow.workers", min(cfg.flow.workers, cores))


class ChunkWorker:
    """Loads the model once (in the actor's process, never on the driver) and runs chunks."""

    def __init__(self, cfg_yaml: str, cpus: float, progress: str = ""):
        """``cfg_yaml``: the effective config as YAML text; ``progress``: the name of the Ray
        actor to report frames to (plain values only, so Ray can always restart this actor)."""
        import torch

        cfg = load_yaml_text(cfg_yaml)
        device = "cuda" if cfg.model.device == "auto" and torch.cuda.is_available() else "cpu"
        if device == "cpu":
            cfg = worker_config(cfg, cpus)
        self.pipeline = Pipeline(cfg)
        self.broken: VidstyleError | None = None
        try:
            self.pipeline.load()  # now: the first chunk should not pay for it
        except VidstyleError as exc:  # e.g. the model: told by ready(), not retried as a crash
            self.broken = exc
        self.progress = None
        if progress:
            import ray

            self.progress = ray.get_actor(progress)

    def ready(self) -> int:
        """Answers once the model is loaded (the driver hands out chunks only then): the pid,
        or raises the user error that kept it from loading."""
        if self.broken is not None:
            raise self.broken
        return os.getpid()

    def run(self, job: ChunkJob) -> ChunkResult:
        with open(job.attempts_file, "a") as fh:
            fh.write(f"{os.getpid()} {time.time():.3f}\n")
        attempts = len(job.attempts_file.read_text().splitlines())
        started, t0 = time.time(), time.perf_counter()
        if job.target.is_file():  # an earlier try finished it and was lost before it could say so
            frames = _video_packets(job.target)
            self._tick(job.key, frames)
            return ChunkResult(job.key, job.target, frames, 0.0, attempts, started)
        if job.whole:
            report = self.pipeline.run(
                job.source, job.target, on_progress=lambda frames: self._tick(job.key, frames)
            )
            self._tick(job.key, report.frames_out)
            frames, warnings = report.frames_out, report.warnings
        else:
            frames, warnings = self._segment(job, attempts)
        return ChunkResult(job.key, job.target, frames, time.perf_counter() - t0, attempts, started, warnings)

    def _segment(self, job: ChunkJob, attempts: int) -> tuple[int, list[str]]:
        """Decode the chunk's range from its warm-up frames on, write its own frames to a segment."""
        cfg = self.pipeline.cfg
        chunk = job.chunk
        source = VideoFileSource(
            job.source, cfg.input.decode_threads, pts_range=(chunk.warm_pts, chunk.end_pts)
        )
        try:
            info = dataclasses.replace(source.info, audio_streams=0)  # audio is copied once, at the end
            mem = self.pipeline.memory_plan(info, job.target.with_suffix(job.final_suffix))
            encode = self.pipeline.encode_config(mem)
            if encode.codec == "auto":
                encode = dataclasses.replace(encode, codec=CONTAINERS[job.final_suffix.lower()][1])
            sink = _WarmupDropSink(
                VideoFileSink(job.target, info, encode),
                chunk.start_pts,
                kill_at=chunk.frames // 2 if job.kill_once and attempts == 1 else None,
            )
            self._run_stages(source, sink, job.key, mem)
        finally:
            source.close()
        warnings = [f"chunk {chunk.index}: {source.truncated}"] if source.truncated else []
        if sink.frames_written != chunk.frames:
            warnings.append(
                f"chunk {chunk.index}: wrote {sink.frames_written} frames, "
                f"the packets promised {chunk.frames}"
            )
        for w in warnings:
            log.warning(w)
        return sink.frames_written, warnings

    def _run_stages(self, source: VideoFileSource, sink: _WarmupDropSink, key: str, mem: MemoryPlan) -> None:
        """The pipeline's stages from ``source`` into ``sink``; the segment is complete or removed."""
        info = source.info
        stages = self.pipeline.stages(
            sink, max_side=self.pipeline.max_side_for(info.height, info.width, mem.max_side)
        )
        runner = Runner(source, stages, mem.queue_size)
        try:
            result = runner.run(on_tick=lambda _r: self._tick(key, sink.frames_written))
        except BaseException:
            runner.abort()
            sink.abort()
            raise
        if result.error is not None:
            sink.abort()
            result.raise_error()
        sink.close()
        self._tick(key, sink.frames_written)

    def _tick(self, key: str, frames: int) -> None:
        if self.progress is not None:
            self.progress.report.remote(key, frames)


def _video_packets(path: Path) -> int:
    """Frames in a finished segment or file (its video packets; nothing is decoded)."""
    with av.open(str(path)) as c:
        return sum(1 for p in c.demux(c.streams.video[0]) if p.size)


class _WarmupDropSink(FrameSink):
    """Passes frames with ``pts >= start_pts`` on to ``sink``, timed from ``start_pts`` (the
    segment starts at 0; the join adds ``start_pts`` back). The warm-up frames before them are
    stylized and blended like any other (that is their purpose) but not written."""

    def __init__(self, sink: VideoFileSink, start_pts: int, kill_at: int | None = None):
        self.sink = sink
        self.start_pts = start_pts
        self.kill_at = kill_at
        self.frames_written = 0
        self.closed = False

    def write(self, frame: Frame, rgb: np.ndarray) -> None:
        pts = frame.pts
        if pts is not None and pts < self.start_pts:
            return
        if self.kill_at is not None and self.frames_written >= self.kill_at:
            os._exit(17)  # test hook only: a worker dying mid-chunk (see KILL_ONCE_ENV)
        self.sink.write(dataclasses.replace(frame, pts=None if pts is None else pts - self.start_pts), rgb)
        self.frames_written += 1

    def close(self, complete: bool = True) -> Path:
        self.closed = True
        path = self.sink.close(complete=True)
        if path is None:
            raise VidstyleError(f"{self.sink.path.name}: no frames in this chunk")
        return path

    def abort(self) -> None:
        self.closed = True
        self.sink.abort()
