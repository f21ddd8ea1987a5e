"""stream.outputs: segmented recording, the latency-measuring fan-out, and the MJPEG preview."""

from __future__ import annotations

import urllib.request
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
from conftest import moving_frames, probe

from vidstyle.config import EncodeConfig, StreamConfig
from vidstyle.io.frame import Frame, VideoInfo
from vidstyle.stream.outputs import LiveSink, PreviewServer, SegmentedFile

TB = Fraction(1, 1000)
INFO = VideoInfo(width=128, height=96, rate=Fraction(25), time_base=TB, kind="stream")


def frames(n: int, step_ms: int = 40):
    return [Frame(i, rgb, i * step_ms, TB) for i, rgb in enumerate(moving_frames(n))]


def test_segments_split_on_time_and_each_starts_at_zero(tmp_path):
    cfg = replace(StreamConfig(), segment_seconds=1.0, preset="ultrafast")
    seg = SegmentedFile(tmp_path / "rec.mp4", INFO, EncodeConfig(), cfg)
    for f in frames(60):  # 2.4 s at 25 fps -> segments of 1 s
        seg.write(f, f.rgb)
    last = seg.close()
    assert [p.name for p in seg.segments] == ["rec-000.mp4", "rec-001.mp4", "rec-002.mp4"]
    assert last == seg.segments[-1] and seg.frames_written == 60 and seg.closed
    counts = [probe(p)["frames"] for p in seg.segments]
    assert counts == [25, 25, 10]
    assert probe(seg.segments[1])["pts"][0] == 0


def test_one_file_without_segments(tmp_path):
    cfg = replace(StreamConfig(), segment_seconds=0.0, preset="ultrafast")
    with SegmentedFile(tmp_path / "rec.mkv", INFO, EncodeConfig(), cfg) as seg:
        for f in frames(5):
            seg.write(f, f.rgb)
    assert [p.name for p in seg.segments] == ["rec.mkv"]


class Collect:
    def __init__(self):
        self.n, self.closed_with = 0, None

    def write(self, frame, rgb):
        self.n += 1

    def close(self, complete=True):
        self.closed_with = complete
        return "collected"

    def abort(self):
        pass


def test_live_sink_fans_out_measures_latency_and_releases_each_frame():
    released = []
    out = Collect()
    sink = LiveSink([out], on_written=lambda: released.append(1))
    for f in frames(4):
        f.capture_time = 0.0  # long ago: latency is large and positive
        sink.write(f, f.rgb)
    assert out.n == 4 and len(released) == 4 and sink.frames_written == 4
    assert sink.percentile(50) > 0 and sink.percentile(95) >= sink.percentile(50)
    assert sink.close() == ["collected"] and out.closed_with is True and sink.closed


def test_preview_serves_the_newest_side_by_side():
    with PreviewServer("127.0.0.1", 0, 256) as server:
        with pytest.raises(urllib.error.HTTPError, match="503"):
            urllib.request.urlopen(server.url + "frame.jpg", timeout=5)
        a, b = np.zeros((96, 128, 3), np.uint8), np.full((96, 128, 3), 255, np.uint8)
        server.update(a, b)
        import cv2

        jpeg = urllib.request.urlopen(server.url + "frame.jpg", timeout=5).read()
        img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert img.shape == (96, 256, 3)  # two 128-wide tiles
        assert img[:, :100].mean() < 20 and img[:, 156:].mean() > 235


def _answer(port: int, path: str, method: str = "GET", read: int = -1):
    """(status, headers without Server/Date, first ``read`` bytes of the body) of one request."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        headers = [(k, v) for k, v in resp.getheaders() if k not in ("Server", "Date")]
        return resp.status, headers, resp.read(read) if read >= 0 else resp.read()
    finally:
        conn.close()


def test_preview_paths_types_codes_and_headers():
    """What a browser sees of the preview, header by header (the server is vidstyle.httpd now)."""
    with PreviewServer("127.0.0.1", 0, 256) as server:
        port = server.port
        page = [
            ("Content-Type", "text/html"),
            ("Content-Length", str(len(server.PAGE))),
            ("Cache-Control", "no-store"),
        ]
        assert _answer(port, "/") == (200, page, server.PAGE)
        assert _answer(port, "/index.html") == (200, page, server.PAGE)
        missing = [("Content-Type", "text/plain"), ("Content-Length", "9"), ("Cache-Control", "no-store")]
        assert _answer(port, "/nothing") == (404, missing, b"not found")
        assert _answer(port, "/frame.jpg")[::2] == (503, b"no frame yet")
        server.update(np.zeros((96, 128, 3), np.uint8), np.zeros((96, 128, 3), np.uint8))
        status, headers, jpeg = _answer(port, "/frame.jpg?t=123")  # a cache-busting query
        assert status == 200 and jpeg.startswith(b"\xff\xd8")
        assert headers == [
            ("Content-Type", "image/jpeg"),
            ("Content-Length", str(len(jpeg))),
            ("Cache-Control", "no-store"),
        ]
        status, headers, part = _answer(port, "/stream.mjpg", read=60)
        assert status == 200
        assert headers == [
            ("Content-Type", "multipart/x-mixed-replace; boundary=frame"),
            ("Cache-Control", "no-store"),
        ]
        assert part.startswith(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ")
        assert _answer(port, "/frame.jpg", "POST")[0] == 501  # GET only, as ever
    with pytest.raises(urllib.error.URLError):  # closed: the port is free
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)


def test_a_closed_preview_ends_its_mjpeg_streams():
    import http.client
    import threading

    server = PreviewServer("127.0.0.1", 0, 256)
    server.update(np.zeros((96, 128, 3), np.uint8), np.zeros((96, 128, 3), np.uint8))
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/stream.mjpg")
    resp = conn.getresponse()
    first = resp.read(10)
    threading.Timer(0.3, server.close).start()
    rest = resp.read()  # returns once the server closes the stream
    conn.close()
    assert first == b"--frame\r\nC" and rest.count(b"--frame") == 0
