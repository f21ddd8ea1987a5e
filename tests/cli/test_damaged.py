"""Damaged and unusual inputs read as FFmpeg reads them: undecodable packets skipped and reported
with their times, audio kept as long as the video, exact container lengths."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import moving_frames, probe

from vidstyle.cli import main
from vidstyle.io.synth import tone, write_clip

STYLIZE = ["--no-progress", "--preset", "ultrafast", "--faces", "off", "--temporal", "off"]


def overwrite(src: Path, dst: Path, at: float, size: int, seed: int = 1) -> Path:
    """``src`` with ``size`` bytes of noise written over it at ``at`` (share of the file)."""
    data = bytearray(src.read_bytes())
    start = int(len(data) * at)
    data[start : start + size] = np.random.default_rng(seed).bytes(size)
    dst.write_bytes(bytes(data))
    return dst


@pytest.fixture(scope="module")
def av_clip(tmp_path_factory) -> Path:
    """8 s, 128x96, 25 fps H.264 + AAC in MP4 (about 150 KB)."""
    d = tmp_path_factory.mktemp("damaged")
    return write_clip(d / "clean.mp4", moving_frames(200), 25, audio=tone(8.0))


def audio_seconds(path: Path) -> float:
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        return float(a.duration * a.time_base)


def stylize(tiny_model, capsys, *args) -> tuple[int, str]:
    code = main(["stylize", *map(str, args), "--style", str(tiny_model), *STYLIZE])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("at,size", [(0.5, 15_000), (0.03, 25_000)], ids=["middle", "near_start"])
def test_garbage_inside_an_mp4_skips_only_the_damaged_frames(tmp_path, av_clip, tiny_model, capsys, at, size):
    bad = overwrite(av_clip, tmp_path / "bad.mp4", at, size)
    out = tmp_path / "out.mp4"
    code, err = stylize(tiny_model, capsys, bad, "-o", out)
    assert code == 0, err
    m = re.search(r"(\d+) of 200 frames could not be decoded and were skipped \(at ([^)]*)\)", err)
    assert m, err
    lost = int(m.group(1))
    info = probe(out)
    assert 0 < lost < 80 and info["frames"] == 200 - lost  # everything else is kept
    assert re.fullmatch(r"(\d+\.\d\d(-\d+\.\d\d)? s(, )?)+", m.group(2)), m.group(2)
    assert "input ended early" not in err and "re-timed" not in err
    assert all(b > a for a, b in zip(info["pts"], info["pts"][1:]))
    assert info["duration"] == pytest.approx(8.0, abs=0.05)  # the frames keep their times
    assert audio_seconds(out) == pytest.approx(8.0, abs=0.05)


def test_video_lost_at_the_end_takes_the_audio_with_it(tmp_path, av_clip, tiny_model, capsys):
    """The last part of the media data is noise: the frames before it are kept, and the copied audio
    stops where the video stops instead of running on for seconds over nothing."""
    size = av_clip.stat().st_size
    bad = overwrite(av_clip, tmp_path / "tail.mp4", 0.7, int(0.25 * size))  # moov stays
    out = tmp_path / "out.mp4"
    code, err = stylize(tiny_model, capsys, bad, "-o", out)
    assert code == 0 and "could not be decoded" in err, err
    info = probe(out)
    video_end = float(info["pts"][-1] * info["time_base"]) + 0.04
    assert 3.0 < video_end < 7.0
    assert info["duration"] == pytest.approx(video_end, abs=0.03)
    assert audio_seconds(out) == pytest.approx(video_end, abs=0.03)  # within one AAC packet


def test_vfr_mp4_lasts_until_its_last_frame_ends(tmp_path, tiny_model, capsys):
    pts = [0, 40, 80, 200, 240, 600, 640, 680, 1000, 1040]  # ms, irregular
    src = write_clip(tmp_path / "vfr.mp4", moving_frames(10), 25, pts=pts, time_base=Fraction(1, 1000))
    out = tmp_path / "out.mp4"
    code, err = stylize(tiny_model, capsys, src, "-o", out)
    assert code == 0, err
    info = probe(out)
    assert [round(float(p * info["time_base"]) * 1000) for p in info["pts"]] == pts
    assert info["duration"] == pytest.approx(1.08, abs=0.002)  # 1.04 s + the last frame's 40 ms
