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
