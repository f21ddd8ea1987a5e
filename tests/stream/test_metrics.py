"""stream.metrics: Prometheus text from the status counters, and its server."""

from __future__ import annotations

import pytest
from stream_helpers import _samples

from vidstyle.errors import OutputError
from vidstyle.stream.metrics import metrics_text
from vidstyle.stream.status import Counters, status_record


def test_metrics_read_the_same_counters_as_the_status_lines():
    now = Counters(
        mono=5.0,
        uptime_s=5.0,
        state="reconnecting",
        frames_in=1_234_567,
        frames_out=1_200_000,
        dropped_late=30_000,
        dropped_at_stop=4,
        reconnects=3,
        last_frame_age_s=2.7,
    )
    rec = status_record(now, None, [0.1, 0.2, 0.4], "cam", [])
    text = metrics_text(now, [0.1, 0.2, 0.4])
    got = _samples(text)
    assert got["vidstyle_stream_up"] == 0
    assert got["vidstyle_stream_frames_in_total"] == rec["frames_in"]  # exact, not 1.23457e+06
    assert got["vidstyle_stream_frames_out_total"] == rec["frames_out"]
    assert got['vidstyle_stream_dropped_total{reason="late"}'] == rec["dropped"]["late"]
    assert got['vidstyle_stream_dropped_total{reason="at_stop"}'] == rec["dropped"]["at_stop"]
    assert got["vidstyle_stream_reconnects_total"] == rec["reconnects"]
    assert got["vidstyle_stream_last_frame_age_seconds"] == rec["last_frame_age_s"]
    assert got['vidstyle_stream_latency_seconds{stat="p50"}'] * 1000 == rec["latency_ms"]["p50"]
    assert "# TYPE vidstyle_stream_frames_in_total counter" in text
    starting = _samples(metrics_text(Counters(state="starting"), []))
    assert starting["vidstyle_stream_up"] == 0 and "vidstyle_stream_last_frame_age_seconds" not in starting


def test_a_busy_metrics_port_is_one_line():
    from vidstyle.stream.metrics import MetricsServer

    with MetricsServer("127.0.0.1", 0) as first:
        port = int(first.url.rsplit(":", 1)[1].split("/")[0])
        with pytest.raises(OutputError, match=f"metrics server cannot listen on 127.0.0.1:{port}: "):
            MetricsServer("127.0.0.1", port)


def test_metrics_server_paths_types_and_codes():
    """/metrics (with or without a query) is the text; any other path a 404 that says where to look."""
    import http.client

    from vidstyle.stream.metrics import CONTENT_TYPE, MetricsServer

    def answer(port: int, path: str, method: str = "GET"):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request(method, path)
            resp = conn.getresponse()
            return (
                resp.status,
                [(k, v) for k, v in resp.getheaders() if k not in ("Server", "Date")],
                resp.read(),
            )
        finally:
            conn.close()

    with MetricsServer("127.0.0.1", 0) as server:
        port = int(server.url.rsplit(":", 1)[1].split("/")[0])
        assert server.url == f"http://127.0.0.1:{port}/metrics"
        server.text = lambda: "vidstyle_stream_up 1\n"
        ok = [("Content-Type", CONTENT_TYPE), ("Content-Length", "21")]
        assert answer(port, "/metrics") == (200, ok, b"vidstyle_stream_up 1\n")
        assert answer(port, "/metrics?x=1") == (200, ok, b"vidstyle_stream_up 1\n")
        missing = b"not found: try /metrics\n"
        assert answer(port, "/") == (404, [("Content-Type", CONTENT_TYPE), ("Content-Length", "24")], missing)
        assert answer(port, "/metrics/x")[0] == 404
        assert answer(port, "/metrics", "POST")[0] == 501
