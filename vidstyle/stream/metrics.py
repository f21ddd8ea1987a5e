"""A Prometheus text endpoint (``/metrics``) for a live run, fed by the same counters as the JSON
status lines (stream.status.read_counters). Off unless ``stream.metrics_port`` is set; loopback
unless ``stream.metrics_host`` says otherwise."""

from __future__ import annotations

from collections.abc import Callable

from ..httpd import HttpServer, Response
from .status import Counters, latency_ms

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_FRAMES = 100  # the latency gauges cover the frames written last
NOT_FOUND = b"not found: try /metrics\n"


def metrics_text(now: Counters, recent_latencies_s: list[float]) -> str:
    """The exposition text: counters (``_total``) since the start, gauges for the moment."""
    lat = latency_ms(recent_latencies_s)
    rows: list[tuple[str, str, str, list[tuple[str, float | None]]]] = [
        (
            "up",
            "gauge",
            "1 while frames flow, 0 while the source is lost and being reopened",
            [("", 1 if now.state == "running" else 0)],
        ),
        ("uptime_seconds", "gauge", "seconds since the source opened", [("", now.uptime_s)]),
        ("frames_in_total", "counter", "frames captured from the source", [("", now.frames_in)]),
        ("frames_out_total", "counter", "frames written to the outputs", [("", now.frames_out)]),
        (
            "dropped_total",
            "counter",
            "frames dropped, by reason",
            [('{reason="late"}', now.dropped_late), ('{reason="at_stop"}', now.dropped_at_stop)],
        ),
        ("reconnects_total", "counter", "outages the source came back from", [("", now.reconnects)]),
        (
            "last_frame_age_seconds",
            "gauge",
            "seconds since the newest captured frame",
            [("", now.last_frame_age_s)],
        ),
        (
            "latency_seconds",
            "gauge",
            f"capture-to-output latency of the last {LATENCY_FRAMES} frames written",
            [
                ('{stat="p50"}', None if lat is None else lat["p50"] / 1000),
                ('{stat="max"}', None if lat is None else lat["max"] / 1000),
            ],
        ),
    ]
    lines = []
    for name, kind, help_text, samples in rows:
        full = f"vidstyle_stream_{name}"
        lines += [f"# HELP {full} {help_text}", f"# TYPE {full} {kind}"]
        lines += [f"{full}{labels} {_number(value)}" for labels, value in samples if value is not None]
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else repr(round(float(value), 6))


class MetricsServer:
    """Serves ``self.text()`` at ``/metrics`` from a daemon thread (until the run has started:
    zeros and ``up 0``)."""

    def __init__(self, host: str, port: int):
        self.text: Callable[[], str] = lambda: metrics_text(Counters(state="starting"), [])
        self.http = HttpServer("metrics", host, port, not_found=lambda request: self._plain(404, NOT_FOUND))
        self.http.route("/metrics", lambda request: self._plain(200, self.text().encode()))
        self.http.start()
        self.url = self.http.url("/metrics")

    @staticmethod
    def _plain(status: int, body: bytes) -> Response:
        return Response(status, CONTENT_TYPE, body)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
