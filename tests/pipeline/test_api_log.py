"""The run's opening log line tells what is coming (issue 35): an estimated frame count (and a
progress total, so an ETA) where the container states none, and a still called an image."""

from __future__ import annotations

from fractions import Fraction

import pytest
from conftest import moving_frames
from PIL import Image

import vidstyle.pipeline.api as api
from vidstyle.cli import main
from vidstyle.io.frame import VideoInfo
from vidstyle.io.synth import write_clip

FAST = ["--no-progress", "--preset", "ultrafast", "--faces", "off"]


@pytest.fixture()
def totals(monkeypatch) -> list[int]:
    """The totals the progress bars of the runs were given."""
    seen: list[int] = []

    class Spy(api._Progress):
        def __init__(self, mode, total, desc, callback=None):
            seen.append(total)
            super().__init__(mode, total, desc, callback)

    monkeypatch.setattr(api, "_Progress", Spy)
    return seen


def stylize(capsys, *argv) -> tuple[int, str]:
    code = main(["stylize", *map(str, argv), *FAST])
    return code, capsys.readouterr().err


def test_an_mkv_gets_an_estimated_frame_count_and_a_progress_total(tmp_path, tiny_model, capsys, totals):
    src = write_clip(tmp_path / "in.mkv", moving_frames(10, 48, 64), 25)  # MKV states no frame count
    code, err = stylize(capsys, src, "-o", tmp_path / "o.mp4", "--style", tiny_model)
    assert code == 0, err
    assert "64x48, 25 fps, ~10 frames ->" in err and "? frames" not in err
    assert totals == [10]


def test_a_cut_gets_the_frame_count_of_its_span(tmp_path, tiny_model, capsys, totals):
    src = write_clip(tmp_path / "in.mp4", moving_frames(25, 48, 64), 25)
    code, err = stylize(
        capsys, src, "-o", tmp_path / "o.mp4", "--style", tiny_model, "-ss", "0.2", "-t", "0.4"
    )
    assert code == 0, err
    assert "25 fps, ~10 frames ->" in err, err
    assert totals == [10]


def test_a_still_is_described_as_an_image(tmp_path, tiny_model, capsys):
    Image.fromarray(moving_frames(1, 48, 64)[0]).save(tmp_path / "photo.png")
    code, err = stylize(capsys, tmp_path / "photo.png", "-o", tmp_path / "o.png", "--style", tiny_model)
    assert code == 0, err
    assert "photo.png: 64x48 image ->" in err
    assert "fps" not in err.split("->")[0] and "1 frames" not in err
    assert "(1 frame in" in err and "temporal:" not in err


@pytest.mark.parametrize(
    "frames,duration,rate,want",
    [
        (120, 4.8, Fraction(25), (120, True)),  # the container's own count wins
        (0, 4.8, Fraction(25), (120, False)),
        (0, 1.0, Fraction(30000, 1001), (30, False)),
        (0, 0.001, Fraction(25), (1, False)),  # at least one frame
        (0, None, Fraction(25), (0, False)),  # unknown: "? frames", no total
        (0, 4.8, None, (0, False)),
    ],
)
def test_expected_frames(frames, duration, rate, want):
    info = VideoInfo(64, 48, rate, Fraction(1, 25), frames=frames, duration=duration)
    assert api.expected_frames(info) == want
