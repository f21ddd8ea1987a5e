"""A Matroska or fragmented MP4 file cut off anywhere is trimmed to its last complete cluster or
fragment, and what is kept decodes to its last frame."""

from __future__ import annotations

import os
import shutil
import subprocess
from fractions import Fraction

import av
import pytest
from conftest import moving_frames

from vidstyle.config import EncodeConfig
from vidstyle.io.frame import Frame, VideoInfo
from vidstyle.io.salvage import cut_point
from vidstyle.io.sink import VideoFileSink, partial_path, recover_stale

RATE = 25


def write_video(path, fragmented: bool, frames: int = 250):
    info = VideoInfo(128, 96, Fraction(RATE), Fraction(1, RATE))
    sink = VideoFileSink(path, info, EncodeConfig(preset="medium", fragmented=fragmented))
    for i, rgb in enumerate(moving_frames(frames)):
        sink.write(Frame(i, rgb, i, Fraction(1, RATE)), rgb)
    return sink.close()


def strict_frames(path) -> int:
    """Frames decoded from ``path``; a packet that does not decode raises."""
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


@pytest.mark.parametrize("ext,fragmented", [("mkv", False), ("webm", False), ("mp4", True)])
def test_any_cut_is_trimmed_to_whole_clusters_that_decode(tmp_path, ext, fragmented):
    whole = write_video(tmp_path / f"v.{ext}", fragmented)
    assert cut_point(whole) is None  # a finished file is left alone
    size = whole.stat().st_size
    kept = []
    for share in (0.3, 0.45, 0.6, 0.75, 0.9, 0.99):
        cut = tmp_path / f"cut.{ext}"
        with open(whole, "rb") as src, open(cut, "wb") as dst:
            dst.write(src.read(int(size * share)))
        end = cut_point(cut)
        assert end is not None and end < int(size * share)
        os.truncate(cut, end)
        assert cut_point(cut) is None
        kept.append(strict_frames(cut))
    assert kept == sorted(kept) and 0 < kept[0] and kept[-1] <= 250
    assert kept[-1] - kept[0] > 100  # clusters/fragments of 0.5 s: the cut point follows the cut


def test_neither_format_or_nothing_complete_is_left_alone(tmp_path):
    empty = tmp_path / "e.mkv"
    empty.write_bytes(b"")
    junk = tmp_path / "j.mkv"
    junk.write_bytes(b"not a video at all" * 10)
    plain = write_video(tmp_path / "p.mp4", fragmented=False)
    head = tmp_path / "h.mkv"
    head.write_bytes(write_video(tmp_path / "w.mkv", False).read_bytes()[:200])
    assert [cut_point(p) for p in (empty, junk, plain, head)] == [None] * 4


@pytest.mark.parametrize("ext,fragmented", [("mkv", False), ("mp4", True)])
@pytest.mark.parametrize("share", [0.45, 0.6, 0.75])
def test_recovery_keeps_a_cut_file_that_plays_to_its_last_frame(tmp_path, ext, fragmented, share):
    whole = write_video(tmp_path / f"v.{ext}", fragmented)
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no longer runs: its writer was killed
    temp = tmp_path / f".out.{dead.pid}-abc.part.{ext}"
    shutil.copyfile(whole, temp)
    os.truncate(temp, int(whole.stat().st_size * share))  # mid-cluster, as a hard kill leaves it
    out = tmp_path / f"out.{ext}"
    assert recover_stale(out) == [partial_path(out)]
    assert not temp.exists()
    assert 0 < strict_frames(partial_path(out)) < 250
