"""What a live run tells while it runs and when it ends: the summary, the status line, JSON lines.

The status line is for people (a self-overwriting line on a terminal, a log line every
``stream.status_every`` seconds elsewhere). ``stream.status_json`` is for machines: one JSON
object per line, appended and flushed, every ``status_every`` seconds, at each change of state
and at the end. Its fields are documented in docs/streams.md ("Status for operators") and stay stable.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import OutputError
from ..log import log, redact


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
        lat = (
            "-"
            if self.latency_p50 is None or self.latency_p95 is None
            else f"{1000 * self.latency_p50:.0f}/{1000 * self.latency_p95:.0f} ms"
        )
        return (
            f"in {self.input_fps:.1f} fps, out {self.output_fps:.1f} fps, {self.written} frames, "
            f"{self.dropped} dropped, {self.reconnects} reconnects, latency p50/p95 {lat}"
        )


def report_of(source, sink) -> StreamReport:
    """The whole run so far of a LiveSource into a LiveSink."""
    secs = max(source.elapsed, 1e-6)
    span = (sink.last_write - sink.first_write) if sink.first_write and sink.last_write else 0.0
    return StreamReport(
        source.captured,
        source.delivered,
        source.dropped,
        sink.frames_written,
        source.reconnects,
        secs,
        source.captured / secs,
        (sink.frames_written - 1) / span if span > 0 else 0.0,
        sink.percentile(50),
        sink.percentile(95),
    )


@dataclass
class Counters:
    """The run's counters read at one moment (``mono``: time.monotonic(); seconds throughout)."""

    mono: float = 0.0
    uptime_s: float = 0.0
    state: str = "ended"
    frames_in: int = 0
    frames_out: int = 0
    dropped_late: int = 0
    dropped_at_stop: int = 0
    reconnects: int = 0
    last_frame_age_s: float | None = None


def read_counters(source, sink) -> Counters:
    now = time.monotonic()
    age = None if source.last_frame_at is None else now - source.last_frame_at
    return Counters(
        now,
        source.elapsed,
        source.state,
        source.captured,
        sink.frames_written,
        source.dropped_late,
        source.dropped_at_stop,
        source.reconnects,
        age,
    )


def latency_ms(latencies_s: list[float]) -> dict | None:
    """p50 and max, in ms, of capture-to-output latencies given in seconds; None for none."""
    if not latencies_s:
        return None
    values = np.asarray(latencies_s, dtype=float) * 1000
    return {"p50": round(float(np.percentile(values, 50)), 1), "max": round(float(values.max()), 1)}


def status_record(
    now: Counters,
    before: Counters | None,
    latencies_s: list[float],
    source: str,
    outputs: list[str],
    error: str | None = None,
) -> dict:
    """One status line. Rates and latencies cover the window since ``before`` (None: the run so
    far); counters are totals since the start."""
    span = now.mono - before.mono if before is not None else now.uptime_s
    frames_in_before = before.frames_in if before is not None else 0
    frames_out_before = before.frames_out if before is not None else 0
    age = now.last_frame_age_s
    return {
        "time": round(time.time(), 3),
        "uptime_s": round(now.uptime_s, 3),
        "state": now.state,
        "source": redact(source),
        "outputs": [redact(o) for o in outputs],
        "frames_in": now.frames_in,
        "frames_out": now.frames_out,
        "fps_in": round((now.frames_in - frames_in_before) / span, 2) if span > 0 else 0.0,
        "fps_out": round((now.frames_out - frames_out_before) / span, 2) if span > 0 else 0.0,
        "dropped": {"late": now.dropped_late, "at_stop": now.dropped_at_stop},
        "latency_ms": latency_ms(latencies_s),
        "reconnects": now.reconnects,
        "last_frame_age_s": None if age is None else round(age, 3),
        "error": error,
    }


class StatusJson:
    """Appends JSON status lines to a file, or writes them to standard output (``-``)."""

    def __init__(self, target: str):
        self.target = target
        if target == "-":
            self._file, self._own = sys.stdout, False
            return
        try:
            self._file, self._own = open(target, "a", encoding="utf-8"), True
        except OSError as exc:
            raise OutputError(f"cannot write the status to {target}: {exc.strerror or exc}") from None

    def write(self, record: dict) -> None:
        try:
            self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
            self._file.flush()
        except (OSError, ValueError) as exc:  # a full disk or a closed pipe must not stop the run
            log.warning(f"status: cannot write to {self.target} ({exc}); no more status lines")
            self.close()

    def close(self) -> None:
        if self._own and self._file is not None:
            self._file.close()
        self._file = None

    def __enter__(self) -> StatusJson:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __bool__(self) -> bool:
        return self._file is not None


class Status:
    """The live status of a run: the human line (on a terminal refreshed every second, otherwise
    logged every ``every`` seconds; 0: none) and, with ``json``, the JSON lines."""

    def __init__(
        self,
        source,
        sink,
        spec: str,
        outputs: list[str],
        *,
        line: bool = True,
        tty: bool = True,
        every: float = 10.0,
        json_out: StatusJson | None = None,
    ):
        self.source, self.sink, self.spec, self.outputs, self.tty = source, sink, spec, outputs, tty
        self.line_on = line and (tty or every > 0)
        self.line_every = 1.0 if tty else every
        self.json_every, self.json = every, json_out
        self._last_line = time.monotonic()
        self._shown = False
        self._before: Counters | None = None  # counters at the last JSON line
        if self.json:
            self._write_json(read_counters(source, sink))

    def tick(self, _result=None) -> None:
        """Called a few times a second by the runner (also while no frame comes)."""
        now = read_counters(self.source, self.sink)
        before = self._before
        due = bool(self.json_every) and before is not None and now.mono - before.mono >= self.json_every
        if self.json and before is not None and (due or now.state != before.state):
            self._write_json(now)
        if self.line_on and now.mono - self._last_line >= self.line_every:
            self._last_line = now.mono
            self._show(now)

    def _show(self, now: Counters) -> None:
        line = report_of(self.source, self.sink).line()
        if now.state != "running" and now.last_frame_age_s is not None:
            line = f"{now.state} (no frame for {now.last_frame_age_s:.0f} s) | {line}"
        if not self.tty:
            log.info(f"status: {line}")
            return
        sys.stderr.write("\r" + line[:160] + "\x1b[K")
        sys.stderr.flush()
        self._shown = True

    def _write_json(self, now: Counters, error: str | None = None) -> None:
        if self.json is None:
            return
        written_since = now.frames_out - (self._before.frames_out if self._before else 0)
        window = list(self.sink.latencies)[-written_since:] if written_since > 0 else []
        self.json.write(status_record(now, self._before, window, self.spec, self.outputs, error))
        self._before = now

    def close(self, error: str | None = None) -> None:
        """End the line; the last JSON line (state ``ended``, ``error`` when the run failed)."""
        if self._shown:
            sys.stderr.write("\n")
            self._shown = False
        if self.json:
            now = read_counters(self.source, self.sink)
            now.state = "ended"
            self._write_json(now, error)
            self.json.close()
            self.json = None
