"""io.encoder: the source's timing survives, broken timestamps are re-timed, options per codec."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

from vidstyle.config import EncodeConfig
from vidstyle.io.encoder import VideoEncoder, encoder_options
from vidstyle.io.frame import Frame, VideoInfo


def encoder(tmp_path, rate=Fraction(30000, 1001), tb=Fraction(1, 30000), w=64, h=48):
    container = av.open(str(tmp_path / "o.mkv"), "w")
    info = VideoInfo(width=w, height=h, rate=rate, time_base=tb)
    return container, VideoEncoder(container, info, "libx264", EncodeConfig(preset="ultrafast"))


def test_pts_are_kept_and_converted_to_the_stream_time_base(tmp_path):
    container, enc = encoder(tmp_path)
    rgb = np.zeros((48, 64, 3), np.uint8)
    times = [enc.write(Frame(i, rgb, i, Fraction(1001, 30000)), rgb) for i in range(3)]
    enc.flush()
    container.close()
    assert [enc.last_pts, enc.pts_fixed, enc.frames_written] == [2002, 0, 3]
    assert np.allclose(times, [0.0, 1001 / 30000, 2002 / 30000])


def test_missing_and_repeated_pts_are_retimed_one_frame_on(tmp_path):
    container, enc = encoder(tmp_path, rate=Fraction(25), tb=Fraction(1, 25))
    tb = Fraction(1, 25)
    got = [enc.next_pts(Frame(i, None, pts, tb)) for i, pts in enumerate([0, None, 1, 1, 5])]
    container.close()
    assert got == [0, 1, 2, 3, 5] and enc.pts_fixed == 3


def test_encoder_options_follow_the_codec():
    cfg = EncodeConfig(crf=20, preset="fast", options={"tune": "film"})
    assert encoder_options("libx264", cfg) == {"crf": "20", "preset": "fast", "tune": "film"}
    vp9 = encoder_options("libvpx-vp9", cfg)
    assert vp9["cpu-used"] == "4" and vp9["b"] == "0" and vp9["crf"] == "20"
    assert encoder_options("h264_nvenc", cfg)["cq"] == "20"
