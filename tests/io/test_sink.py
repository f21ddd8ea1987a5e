"""io.sink: files appear only when complete, partial files keep their frames, animations keep
their frame durations, and bad names are refused."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from animation_helpers import DURATIONS, STARTS, frames, pillow_timing
from conftest import moving_frames, probe

from vidstyle.config import EncodeConfig
from vidstyle.errors import OutputError
from vidstyle.io.frame import Frame, VideoInfo
from vidstyle.io.sink import (
    ImageSink,
    VideoFileSink,
    check_output,
    default_output,
    frame_durations,
    open_sink,
    partial_path,
)

TB = Fraction(1, 25)


def info(h: int = 96, w: int = 128) -> VideoInfo:
    return VideoInfo(width=w, height=h, rate=Fraction(25), time_base=TB)


def write_some(sink, n: int = 5) -> None:
    for i, rgb in enumerate(moving_frames(n)):
        sink.write(Frame(i, rgb, i, TB), rgb)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_complete_video_appears_only_under_its_final_name(tmp_path):
    out = tmp_path / "o.mp4"
    sink = VideoFileSink(out, info(), EncodeConfig(preset="ultrafast"))
    write_some(sink)
    assert not out.exists() and len(leftovers(tmp_path)) == 1  # only the temporary file
    assert sink.close(complete=True) == out and sink.closed
    assert leftovers(tmp_path) == ["o.mp4"] and probe(out)["frames"] == 5


def test_an_incomplete_video_is_kept_as_partial(tmp_path):
    out = tmp_path / "o.mkv"
    sink = VideoFileSink(out, info(), EncodeConfig(preset="ultrafast"))
    write_some(sink, 3)
    assert sink.close(complete=False) == partial_path(out) == tmp_path / "o.partial.mkv"
    assert leftovers(tmp_path) == ["o.partial.mkv"] and probe(partial_path(out))["frames"] == 3


def test_leaving_the_with_block_by_an_error_leaves_nothing(tmp_path):
    out = tmp_path / "o.mp4"
    with pytest.raises(RuntimeError, match="boom"):
        with VideoFileSink(out, info(), EncodeConfig(preset="ultrafast")) as sink:
            write_some(sink)
            raise RuntimeError("boom")
    assert leftovers(tmp_path) == []


def test_leaving_the_with_block_normally_finishes_the_file(tmp_path):
    out = tmp_path / "o.mp4"
    with VideoFileSink(out, info(), EncodeConfig(preset="ultrafast")) as sink:
        write_some(sink)
    assert sink.closed and probe(out)["frames"] == 5


def test_abort_after_close_keeps_the_finished_file(tmp_path):
    out = tmp_path / "o.mp4"
    sink = VideoFileSink(out, info(), EncodeConfig(preset="ultrafast"))
    write_some(sink, 2)
    sink.close()
    sink.abort()
    assert leftovers(tmp_path) == ["o.mp4"]


def test_nothing_written_means_no_file(tmp_path):
    sink = VideoFileSink(tmp_path / "o.mp4", info(), EncodeConfig())
    assert sink.close() is None and leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["o.xyz", "o"])
def test_unsupported_video_extensions_are_refused(tmp_path, name):
    with pytest.raises(OutputError, match="unsupported output extension"):
        VideoFileSink(tmp_path / name, info(), EncodeConfig())
    with pytest.raises(OutputError, match="unsupported output extension .* for a video"):
        open_sink(tmp_path / name, info(), EncodeConfig(), single_image=False)
    assert leftovers(tmp_path) == []


def test_image_sink_writes_one_file_per_frame(tmp_path):
    sink = ImageSink(tmp_path / "frames", single=False)
    rgb = np.zeros((8, 8, 3), np.uint8)
    sink.write(Frame(0, rgb, 0, TB, name="a.png"), rgb)
    sink.write(Frame(1, rgb, 1, TB), rgb)
    assert sink.close() == tmp_path / "frames"
    assert leftovers(tmp_path / "frames") == ["a.png", "frame_000001.png"]


def test_check_output_refuses_the_input_and_missing_folders(tmp_path):
    src = tmp_path / "in.mp4"
    src.write_bytes(b"x")
    with pytest.raises(OutputError, match="is the input file"):
        check_output(src, [src])
    with pytest.raises(OutputError, match="output directory does not exist"):
        check_output(tmp_path / "nope" / "o.mp4", [src])
    check_output(tmp_path / "o.mp4", [src])  # fine


def test_default_output_names():
    assert default_output("clips/a.mp4", "wave", "video") == Path("clips/a.wave.mp4")
    assert default_output("frames/", "m:s", "images") == Path("frames.m-s")


def test_frame_durations_round_on_the_grid_without_drift():
    starts = [i / 30 for i in range(30)]  # 30 fps for one second
    gif = frame_durations(starts, 1 / 30, 10)
    assert set(gif) == {30, 40} and sum(gif) == 1000
    assert sum(frame_durations(starts, 1 / 30, 1)) == 1000
    assert frame_durations([0.0, 0.04, 0.12, 0.24], 0.04, 1) == DURATIONS
    assert frame_durations([0.0, 0.0001], 0.0, 10) == [10, 10]  # never a zero-length frame


def test_an_animation_sink_keeps_a_partial_or_nothing(tmp_path):
    from vidstyle.io.frame import Frame, VideoInfo
    from vidstyle.io.sink import AnimatedImageSink

    info = VideoInfo(width=64, height=48, rate=Fraction(25), time_base=Fraction(1, 1000))
    pictures = [np.array(im) for im in frames()]
    sink = AnimatedImageSink(tmp_path / "out.gif", info)
    for i, rgb in enumerate(pictures[:2]):
        sink.write(Frame(i, rgb, STARTS[i], Fraction(1, 1000), duration=DURATIONS[i]), rgb)
    assert sink.close(complete=False) == tmp_path / "out.partial.gif"
    assert pillow_timing(tmp_path / "out.partial.gif")[:2] == (2, DURATIONS[:2])
    sink = AnimatedImageSink(tmp_path / "gone.gif", info)
    sink.write(Frame(0, pictures[0], 0, Fraction(1, 1000)), pictures[0])
    sink.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.partial.gif"]
