"""stream.source: LiveSource on a file (no network): every frame when it may block, timestamps in
ms of capture time, a clean stop, and one-line errors."""

from __future__ import annotations

import threading

import pytest

from vidstyle.config import StreamConfig
from vidstyle.errors import InputError
from vidstyle.stream.source import TIME_BASE, LiveSource


def test_a_file_source_delivers_every_frame_with_its_own_timestamps(basic_clip):
    """Without --realtime a file waits instead of dropping, and keeps its pts and time base (so a
    recording of it lasts as long as it and its audio can follow)."""
    with LiveSource(str(basic_clip), StreamConfig()) as source:
        assert not source.drop  # files wait instead of dropping (auto policy)
        assert (source.info.width, source.info.height, source.info.kind) == (128, 96, "stream")
        frames = []
        for frame in source:
            frames.append(frame)
            source.release()
    assert len(frames) == 50 and source.dropped == 0 and source.truncated == ""
    assert [f.index for f in frames] == list(range(50))
    assert source.info.time_base != TIME_BASE and all(f.time_base == source.info.time_base for f in frames)
    assert [round(f.time, 3) for f in frames] == [round(i / 25, 3) for i in range(50)]


def test_in_flight_limit_holds_the_next_frame_until_one_is_released(basic_clip):
    with LiveSource(str(basic_clip), StreamConfig()) as source:
        source.in_flight_limit = 1
        it = iter(source)
        next(it)
        got = threading.Event()
        waiter = threading.Thread(target=lambda: (next(it), got.set()), daemon=True)
        waiter.start()
        assert not got.wait(0.3)  # the pipeline is full: admission waits
        source.release()
        assert got.wait(5.0)  # a slot freed: the next frame goes in
        source.stop()
        waiter.join(5.0)


def test_stop_ends_the_iteration(basic_clip):
    source = LiveSource(str(basic_clip), StreamConfig())
    taken = 0
    for _ in source:
        taken += 1
        source.release()
        if taken == 3:
            source.stop()
    source.close()
    assert taken == 3


def test_a_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(InputError, match="input not found"):
        LiveSource(str(tmp_path / "nope.mp4"), StreamConfig())


def test_a_missing_webcam_is_a_one_line_error():
    with pytest.raises(InputError, match="webcam /dev/video97 not found"):
        LiveSource("97", StreamConfig())
