"""batch.plan without Ray: warm-up, chunk planning, inputs, ranged decoding."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from conftest import moving_frames

from vidstyle.batch.plan import collect_inputs, plan_chunks, scan, warmup_frames
from vidstyle.io.source import VideoFileSource
from vidstyle.io.synth import write_clip


def test_warmup_frames_follow_the_blend_memory():
    assert warmup_frames(0.7) == 16 and warmup_frames(0.8) == 25  # alpha^W <= 1/255
    assert 0.7**16 <= 1 / 255 < 0.7**15
    assert warmup_frames(0.0) == 0
    assert warmup_frames(0.5, faces_every=5, faces_fade=6) == 11  # faces need longer than 8


def test_chunks_start_at_keyframes_and_cover_every_frame_once():
    pts = list(range(0, 1000, 10))  # 100 frames, 10 ticks apart
    keys = list(range(0, 1000, 70))  # a keyframe every 7 frames
    chunks = plan_chunks(pts, keys, chunk_ticks=200, overlap=5)
    assert len(chunks) >= 3
    assert chunks[0].first == 0 and chunks[-1].end == 100 and chunks[-1].end_pts is None
    for a, b in zip(chunks, chunks[1:]):
        assert a.end == b.first and a.end_pts == b.start_pts  # no gap, no overlap in output
        assert b.start_pts in keys and b.start_pts - a.start_pts >= 200
        assert b.warm_pts == pts[b.first - 5]
    assert chunks[0].warm_pts == 0
    assert sum(c.frames for c in chunks) == 100
    assert 1000 - chunks[-1].start_pts >= 100  # no stub of a last chunk


def test_short_videos_stay_whole():
    pts = list(range(0, 140, 10))
    assert len(plan_chunks(pts, [0, 50, 100], chunk_ticks=100, overlap=3)) == 1
    assert len(plan_chunks(pts, [0, 50, 100], chunk_ticks=0, overlap=3)) == 1


def test_inputs_from_files_folders_and_globs(tmp_path):
    (tmp_path / "clips" / "sub").mkdir(parents=True)
    for name in ("clips/a.mp4", "clips/sub/b.mkv", "clips/notes.txt", "c.mov", "d.mp4"):
        (tmp_path / name).write_bytes(b"x")
    files, errors = collect_inputs(
        [
            str(tmp_path / "clips"),
            str(tmp_path / "c.mov"),
            str(tmp_path / "*.mp4"),
            str(tmp_path / "missing.mp4"),
        ]
    )
    assert [str(f.relative) for f in files] == ["a.mp4", "sub/b.mkv", "c.mov", "d.mp4"]
    assert errors == [(str(tmp_path / "missing.mp4"), "input not found")]


@pytest.mark.parametrize("ext,vfr", [(".mp4", False), (".mkv", True)])
def test_ranged_decode_is_exactly_the_frames_of_the_range(tmp_path, ext, vfr):
    """Seek + decode by pts returns the same frames (pixels and pts) as a full decode, with
    B-frames in the source (x264 veryfast) and keyframes every 10 frames."""
    gaps = [40, 40, 80, 20, 40, 120, 40, 33, 47, 40] * 5
    pts = np.concatenate([[0], np.cumsum(gaps)]).tolist() if vfr else None
    src = write_clip(
        tmp_path / f"r{ext}",
        moving_frames(51),
        25,
        gop=10,
        pts=pts,
        time_base=Fraction(1, 1000) if vfr else None,
    )
    full = list(VideoFileSource(src))
    found = scan(src)
    assert found.frames == 51 and found.pts == [f.pts for f in full]
    assert len(found.keyframes) >= 5
    start, end = found.pts[23], found.pts[37]  # mid-GOP on both ends
    part = list(VideoFileSource(src, pts_range=(start, end)))
    assert [f.pts for f in part] == found.pts[23:37]
    for a, b in zip(part, full[23:37]):
        assert np.array_equal(a.rgb, b.rgb)
    tail = list(VideoFileSource(src, pts_range=(found.keyframes[-1], None)))
    assert [f.pts for f in tail] == [p for p in found.pts if p >= found.keyframes[-1]]
