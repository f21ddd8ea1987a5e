"""Run the pipeline on a live source into live outputs, with a live status line.

The same stages as ``stylize`` (flow, faces, compose when enabled), with short queues and batch 1
so latency stays bounded; the source drops frames instead of letting them queue up.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import PipelineConfig
from ..configtools import override
from ..errors import OutputError
from ..log import log, redact
from ..pipeline.api import Pipeline, signals_stop
from ..pipeline.runner import Runner
from ..pipeline.scheduling import frames_in_parallel
from .outputs import LiveSink, PreviewServer, RtspOutput, SegmentedFile
from .source import LiveSource


@dataclass
class StreamReport:
    captured: int
    delivered: int
    dropped: int
    written: int
    reconnects: int
    seconds: float
    input_fps: float
    output_fps: float
    latency_p50: float | None
    latency_p95: float | None
    outputs: list = field(default_factory=list)
    stopped_by: int | None = None

    def line(self) -> str:
        lat = "-" if self.latency_p50 is None else f"{1000 * self.latency_p50:.0f}/{1000 * self.latency_p95:.0f} ms"
        return (f"in {self.input_fps:.1f} fps, out {self.output_fps:.1f} fps, {self.written} frames, "
                f"{self.dropped} dropped, {self.reconnects} reconnects, latency p50/p95 {lat}")


def live_config(cfg: PipelineConfig) -> PipelineConfig:
    """Short queues and single-frame batches: latency over throughput."""
    for key, value in (("run.queue_size", cfg.stream.queue_size), ("model.batch", 1), ("faces.batch", 1)):
        cfg = override(cfg, key, value)
    return cfg


def report_of(source: LiveSource, sink: LiveSink) -> StreamReport:
    secs = max(source.elapsed, 1e-6)
    span = (sink.last_write - sink.first_write) if sink.first_write and sink.last_write else 0.0
    return StreamReport(source.captured, source.delivered, source.dropped, sink.frames_written,
                        source.reconnects, secs, source.captured / secs,
                        (sink.frames_written - 1) / span if span > 0 else 0.0,
                        sink.percentile(50), sink.percentile(95))


def run_stream(spec: str, cfg: PipelineConfig, *, file_out: Path | None = None, rtsp_out: str | None = None,
               preview: bool = False, realtime: bool = False, duration: float = 0.0,
               pipeline: Pipeline | None = None, status: bool = True) -> StreamReport:
    """Stylize the live ``spec`` until it ends, ``duration`` seconds pass, or SIGINT/SIGTERM."""
    cfg = live_config(cfg)
    pipeline = pipeline or Pipeline(cfg)
    pipeline.cfg = cfg
    pipeline.stylizer   # load the model before connecting, so the first frames do not pile up
    outputs: list = []
    with contextlib.ExitStack() as opening:   # an error while opening closes what was opened
        source = opening.enter_context(LiveSource(spec, cfg.stream, realtime))
        info = source.info
        if file_out is not None:
            outputs.append(opening.enter_context(SegmentedFile(file_out, info, cfg.encode, cfg.stream)))
        if rtsp_out is not None:
            outputs.append(opening.enter_context(RtspOutput(rtsp_out, info, cfg.encode, cfg.stream)))
        if preview:
            server = opening.enter_context(PreviewServer(cfg.stream.preview_host, cfg.stream.preview_port,
                                                         cfg.stream.preview_width))
            outputs.append(server)
            log.info(f"preview: {server.url}")
        if not outputs:
            raise OutputError("no output: give -o FILE|rtsp://... and/or --preview")
        opening.pop_all()                     # opened: from here on the run below owns them
    sink = LiveSink(outputs, on_written=source.release)
    source.in_flight_limit = cfg.stream.in_flight or frames_in_parallel(cfg, pipeline.stylizer.device) + 1
    log.info(f"{redact(spec)}: {info.width}x{info.height} at ~{float(info.rate):.2f} fps -> "
             f"{', '.join(_describe(o) for o in outputs)} [{pipeline.stylizer.name}]")
    runner = Runner(source, pipeline.stages(sink), cfg.run.queue_size, drain_s=3.0, source_name="capture",
                    live=True)
    timer = threading.Timer(duration, runner.request_stop) if duration > 0 else None
    status_line = _Status(source, sink, enabled=status, tty=sys.stderr.isatty(),
                          every=cfg.stream.status_every)
    try:
        if timer:
            timer.start()
        with signals_stop(runner):
            result = runner.run(on_tick=status_line.tick)
    finally:
        if timer:
            timer.cancel()
        status_line.close()
        source.close()
    report = report_of(source, sink)
    report.stopped_by = result.stopped_by
    if result.error is not None:
        sink.close()
        result.raise_error()
    report.outputs = [str(o) for o in sink.close() if o is not None]
    return report


def _describe(out) -> str:
    if isinstance(out, SegmentedFile):
        return f"{out.path}" + (f" (segments of {out.seconds:g} s)" if out.seconds else "")
    if isinstance(out, RtspOutput):
        return redact(out.url)
    return out.url


class _Status:
    """The live status: on a terminal one self-overwriting line refreshed every second; otherwise
    (Docker, systemd, a log file) one log line every ``every`` seconds (0: none)."""

    def __init__(self, source: LiveSource, sink: LiveSink, enabled: bool, tty: bool = True, every: float = 10.0):
        self.source, self.sink, self.tty = source, sink, tty
        self.enabled = enabled and (tty or every > 0)
        self.every = 1.0 if tty else every
        self._last = time.monotonic()
        self._shown = False

    def tick(self, _result) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < self.every:
            return
        self._last = now
        line = report_of(self.source, self.sink).line()
        if not self.tty:
            log.info(f"status: {line}")
            return
        sys.stderr.write("\r" + line[:160] + "\x1b[K")
        sys.stderr.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            sys.stderr.write("\n")
