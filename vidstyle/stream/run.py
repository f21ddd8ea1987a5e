"""Run the pipeline on a live source into live outputs, with a live status (stream.status).

The same stages as ``stylize`` (flow, faces, compose when enabled), with short queues and batch 1
so latency stays bounded; the source drops frames instead of letting them queue up.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from pathlib import Path

from ..config import PipelineConfig
from ..configtools import override
from ..errors import OutputError, VidstyleError
from ..io.sink import check_overwrite
from ..log import log, redact
from ..pipeline.api import Pipeline, signals_stop
from ..pipeline.runner import Runner
from ..pipeline.scheduling import frames_in_parallel
from .metrics import LATENCY_FRAMES, MetricsServer, metrics_text
from .outputs import LiveSink, PreviewServer, RtspOutput, SegmentedFile
from .source import LiveSource
from .status import Counters, Status, StatusJson, StreamReport, read_counters, report_of, status_record

__all__ = ["StreamReport", "live_config", "report_of", "run_stream"]


def live_config(cfg: PipelineConfig) -> PipelineConfig:
    """Short queues and single-frame batches: latency over throughput."""
    for key, value in (("run.queue_size", cfg.stream.queue_size), ("model.batch", 1), ("faces.batch", 1)):
        cfg = override(cfg, key, value)
    return cfg


def run_stream(
    spec: str,
    cfg: PipelineConfig,
    *,
    file_out: Path | None = None,
    rtsp_out: str | None = None,
    preview: bool = False,
    realtime: bool = False,
    duration: float = 0.0,
    pipeline: Pipeline | None = None,
    status: bool = True,
) -> StreamReport:
    """Stylize the live ``spec`` until it ends, ``duration`` seconds pass, or SIGINT/SIGTERM.
    ``status``: show the human status line (JSON lines and metrics follow ``stream.*``)."""
    cfg = live_config(cfg)
    with contextlib.ExitStack() as ends:
        json_out = ends.enter_context(StatusJson(cfg.stream.status_json)) if cfg.stream.status_json else None
        metrics = None
        if cfg.stream.metrics_port:
            metrics = ends.enter_context(MetricsServer(cfg.stream.metrics_host, cfg.stream.metrics_port))
            log.info(f"metrics: {metrics.url}")
        try:
            pipeline = pipeline or Pipeline(cfg)
            pipeline.cfg = cfg
            pipeline.load()  # the model before connecting, so the first frames do not pile up
            source, outputs = _open(spec, cfg, file_out, rtsp_out, preview, realtime)
        except VidstyleError as exc:  # the JSON reader learns why the run never started
            if json_out:
                json_out.write(status_record(Counters(), None, [], spec, [], error=str(exc)))
            raise
        sink = LiveSink(outputs, on_written=source.release)
        if metrics:
            metrics.text = lambda: metrics_text(
                read_counters(source, sink), list(sink.latencies)[-LATENCY_FRAMES:]
            )
        return _run(spec, cfg, pipeline, source, sink, duration, status, json_out)


def _run(
    spec: str,
    cfg: PipelineConfig,
    pipeline: Pipeline,
    source: LiveSource,
    sink: LiveSink,
    duration: float,
    status: bool,
    json_out: StatusJson | None,
) -> StreamReport:
    source.in_flight_limit = cfg.stream.in_flight or frames_in_parallel(cfg, pipeline.stylizer.device) + 1
    described = [_describe(o) for o in sink.outputs]
    fps = float(source.info.rate or 0)  # a live source always has a rate (30 when it says none)
    log.info(
        f"{redact(spec)}: {source.info.width}x{source.info.height} at ~{fps:.2f} fps "
        f"-> {', '.join(described)} [{pipeline.stylizer.name}]"
    )
    runner = Runner(
        source, pipeline.stages(sink), cfg.run.queue_size, drain_s=3.0, source_name="capture", live=True
    )
    timer = threading.Timer(duration, runner.request_stop) if duration > 0 else None
    live = Status(
        source,
        sink,
        spec,
        described,
        line=status,
        tty=sys.stderr.isatty(),
        every=cfg.stream.status_every,
        json_out=json_out,
    )
    failure = None
    try:
        try:
            if timer:
                timer.start()
            with signals_stop(runner):
                result = runner.run(on_tick=live.tick)
        finally:
            if timer:
                timer.cancel()
            source.close()
        report = report_of(source, sink)
        report.stopped_by = result.stopped_by
        failure = _failure(result)
        if failure is not None:
            sink.close()
            raise failure
        report.outputs = [str(o) for o in sink.close() if o is not None]
        return report
    finally:
        live.close(error=None if failure is None else str(failure))


def _open(
    spec: str, cfg: PipelineConfig, file_out: Path | None, rtsp_out: str | None, preview: bool, realtime: bool
) -> tuple[LiveSource, list]:
    """The source and every output, opened; an error while opening closes what was opened."""
    outputs: list = []
    with contextlib.ExitStack() as opening:
        source = LiveSource(spec, cfg.stream, realtime)
        opening.enter_context(source)
        info = source.info
        if file_out is not None:
            check_overwrite(file_out, cfg.run.overwrite)  # the source opened: the run writes from here on
            outputs.append(opening.enter_context(SegmentedFile(file_out, info, cfg.encode, cfg.stream)))
        if rtsp_out is not None:
            outputs.append(opening.enter_context(RtspOutput(rtsp_out, info, cfg.encode, cfg.stream)))
        if preview:
            server = opening.enter_context(
                PreviewServer(cfg.stream.preview_host, cfg.stream.preview_port, cfg.stream.preview_width)
            )
            outputs.append(server)
            log.info(f"preview: {server.url}")
        if not outputs:
            raise OutputError("no output: give -o FILE|rtsp://... and/or --preview")
        opening.pop_all()  # opened: from here on the run owns them
    return source, outputs


def _failure(result) -> VidstyleError | None:
    """The one-line error the run ended with, if any."""
    if result.error is None:
        return None
    try:
        result.raise_error()
    except VidstyleError as exc:
        return exc
    return None


def _describe(out) -> str:
    if isinstance(out, SegmentedFile):
        return f"{out.path}" + (f" (segments of {out.seconds:g} s)" if out.seconds else "")
    if isinstance(out, RtspOutput):
        return redact(out.url)
    return out.url
