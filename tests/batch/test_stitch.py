"""batch.stitch: the segment join, without re-encoding."""

from __future__ import annotations

from fractions import Fraction

import pytest
from conftest import moving_frames, probe

from vidstyle.batch.stitch import stitch
from vidstyle.config import EncodeConfig
from vidstyle.io.synth import tone, write_clip


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
