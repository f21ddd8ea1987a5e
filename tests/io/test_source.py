"""io.source: what a source spec is, and how skipped times are reported."""

from __future__ import annotations

import pytest

from vidstyle.io.source import source_kind


@pytest.mark.parametrize(
    "spec,kind",
    [
        ("rtsp://cam/stream", "url"),
        ("SRT://host:9000", "url"),
        ("https://x/y.m3u8", "url"),
        ("/dev/video0", "webcam"),
        ("2", "webcam"),
        ("clip.mp4", "file"),
        ("/dev/null", "file"),
    ],
)
def test_source_kind(spec, kind):
    assert source_kind(spec) == kind


def test_time_ranges_merge_neighbours():
    from vidstyle.io.source import time_ranges

    assert time_ranges([1.0, 1.04, 1.08, 5.0], 0.06) == "1.00-1.08 s, 5.00 s"
    assert time_ranges([float(i) for i in range(8)], 0.5).endswith("4.00 s, 3 more")
