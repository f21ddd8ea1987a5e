"""A Prometheus text endpoint (``/metrics``) for a live run, fed by the same counters as the JSON
status lines (stream.status.read_counters). Off unless ``stream.metrics_port`` is set; loopback
unless ``stream.metrics_host`` says otherwise."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..errors import OutputError
from .status import Counters, latency_ms

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_FRAMES = 100  # the latency gauges cover the frames written last


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
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # scrapes do not belong in the log
                pass

            def do_GET(self) -> None:
                found = self.path.split("?")[0] == "/metrics"
                body = server.text().encode() if found else b"not found: try /metrics\n"
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        try:
            self.httpd = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise OutputError(f"metrics server cannot listen on {host}:{port}: {exc.strerror}") from None
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}/metrics"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="vidstyle-metrics", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
