"""A file whose first frame is at 0.867 s keeps that time through `vidstyle stream` (paced or not)
as it does through `vidstyle stylize`, in MP4 and MKV alike (issue 35): fragmented MP4 (the
stream's recording) used to put it at 0, away from its audio."""

from __future__ import annotations

from fractions import Fraction

import av
import pytest
from conftest import moving_frames

from vidstyle.cli import main
from vidstyle.io.synth import tone, write_clip

FIRST_MS = 867


@pytest.fixture()
def late_clip(tmp_path):
    pts = [FIRST_MS + 40 * i for i in range(25)]
    return write_clip(
        tmp_path / "late.mp4",
        moving_frames(25, 48, 64),
        25,
        pts=pts,
        time_base=Fraction(1, 1000),
        audio=tone(2.0),
    )


def video_times(path) -> list[float]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return sorted(float(f.pts * s.time_base) for f in c.decode(s))


def test_stream_keeps_a_files_start_offset_like_stylize(tmp_path, late_clip, tiny_model):
    model = ["--style", str(tiny_model), "--faces", "off"]
    outputs = {
        "stylize": ["stylize", late_clip, "-o", tmp_path / "s.mp4", "--no-progress", "--preset", "ultrafast"],
        "stylize-fragmented": [
            "stylize",
            late_clip,
            "-o",
            tmp_path / "f.mp4",
            "--no-progress",
            "--set",
            "encode.fragmented=true",
        ],  # B-frames (preset medium)
        "stream-realtime": ["stream", late_clip, "-o", tmp_path / "r.mp4", "--realtime"],
        "stream-realtime-mkv": [
            "stream",
            late_clip,
            "-o",
            tmp_path / "r.mkv",
            "--realtime",
            "--set",
            "encode.audio=none",
        ],
        "stream": ["stream", late_clip, "-o", tmp_path / "n.mp4"],
    }
    for name, argv in outputs.items():
        assert main([*map(str, argv), *model]) == 0, name
        times = video_times(argv[3])
        assert len(times) == 25, name
        assert times[0] == pytest.approx(FIRST_MS / 1000, abs=0.002), name
        assert times[-1] == pytest.approx((FIRST_MS + 960) / 1000, abs=0.002), name
