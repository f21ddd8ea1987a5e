"""io.animated: display times as browsers show them, and WebP frame headers."""

from __future__ import annotations

from animation_helpers import animated, frames

from vidstyle.io.animated import display_ms, webp_durations


def test_frames_of_ten_ms_or_less_show_for_100_ms_as_in_browsers():
    assert [display_ms(d) for d in (0, 10, 11, 40)] == [100, 100, 11, 40]


def test_webp_durations_come_from_the_frame_headers(tmp_path):
    assert webp_durations(animated(tmp_path / "a.webp", durations=[30, 70, 50])) == [30, 70, 50]
    frames(1)[0].save(tmp_path / "still.webp")
    assert webp_durations(tmp_path / "still.webp") == []
