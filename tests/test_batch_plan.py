"""`vidstyle batch` without Ray: chunk planning, ranged decoding and the segment join."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from conftest import moving_frames, probe

from vidstyle.batch.plan import collect_inputs, plan_chunks, scan, warmup_frames
from vidstyle.batch.stitch import stitch
from vidstyle.config import EncodeConfig
from vidstyle.io.source import VideoFileSource
from vidstyle.io.synth import tone, write_clip


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


def test_fingerprint_follows_output_settings_not_scheduling(tmp_path):
    from vidstyle.batch.state import fingerprint
    from vidstyle.config import PipelineConfig
    from vidstyle.configtools import override

    src = tmp_path / "a.mp4"
    src.write_bytes(b"x")
    chunks = plan_chunks(list(range(0, 100, 10)), [0], 0, 0)
    cfg = PipelineConfig()
    fp = fingerprint(src, cfg, chunks)
    assert fingerprint(src, override(cfg, "batch.workers", 7), chunks) == fp
    assert fingerprint(src, override(cfg, "batch.ray", "auto"), chunks) == fp
    assert fingerprint(src, override(cfg, "model.max_side", 64), chunks) != fp
    assert fingerprint(src, cfg, plan_chunks(list(range(0, 100, 10)), [0], 0, 3)[:1] * 2) != fp
    src.write_bytes(b"xy")
    assert fingerprint(src, cfg, chunks) != fp


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


def test_stitch_joins_segments_without_reencoding_and_adds_the_audio(tmp_path):
    """Segments from pts 0 (B-frames, as the workers write them) join into one file with every
    source timestamp, the exact rate and the source's audio."""
    n = 45
    src = write_clip(tmp_path / "src.mp4", moving_frames(n), Fraction(30000, 1001), audio=tone(1.6), gop=15)
    tb = Fraction(1001, 30000)
    segs = []
    for k in range(3):
        segs.append(
            write_clip(
                tmp_path / f"seg{k}.mp4",
                moving_frames(n)[15 * k : 15 * k + 15],
                Fraction(30000, 1001),
                time_base=tb,
            )
        )  # each from pts 0
    out = tmp_path / "out.mp4"
    assert stitch(segs, [0, 15, 30], src, out, EncodeConfig(), tb, Fraction(30000, 1001)) == n
    got, want = probe(out), probe(src)
    assert got["frames"] == n and got["rate"] == Fraction(30000, 1001)
    assert [p * got["time_base"] for p in got["pts"]] == [p * want["time_base"] for p in want["pts"]]
    assert got["duration"] == pytest.approx(want["duration"], abs=0.05)
    assert not list(tmp_path.glob(".*part*"))


def test_stitch_keeps_decode_order_across_a_vfr_join(tmp_path):
    """Frames 20 ms apart before the join and 120 ms after: the second segment's extrapolated
    leading dts fall before the first one's last dts and are moved past it; every pts survives."""
    tb = Fraction(1, 1000)
    first = [20 * i for i in range(15)]
    second = [120 * i for i in range(15)]  # from 0, starting at 300 ms
    segs = [
        write_clip(tmp_path / f"s{k}.mp4", moving_frames(15), 25, pts=p, time_base=tb)
        for k, p in enumerate((first, second))
    ]
    src = write_clip(
        tmp_path / "src.mkv", moving_frames(30), 25, pts=first + [300 + p for p in second], time_base=tb
    )
    out = tmp_path / "out.mkv"
    assert stitch(segs, [0, 300], src, out, EncodeConfig(audio="none"), tb, Fraction(25)) == 30
    assert probe(out)["pts"] == first + [300 + p for p in second]
