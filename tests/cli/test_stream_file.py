"""`vidstyle stream FILE`: one output file unless segments are asked for."""

from __future__ import annotations

import pytest
from conftest import probe, run_cli


@pytest.mark.slow
def test_output_name_is_the_name_given_unless_segments_are_asked_for(tmp_path, av_clip, tiny_model):
    common = ["--style", str(tiny_model), "--faces", "off", "--temporal", "off", "--backend", "torch"]
    proc = run_cli(
        "stream",
        str(av_clip),
        "-o",
        str(tmp_path / "out.mp4"),
        "--realtime",
        *common,
        "--set",
        "stream.status_every=0.5",
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "status: in " in proc.stderr and " dropped, " in proc.stderr  # no terminal: log lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]
    proc = run_cli(
        "stream", str(av_clip), "-o", str(tmp_path / "rec-%03d.mkv"), "--segment", "0.8", *common, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    segments = sorted(p.name for p in tmp_path.glob("rec-*.mkv"))
    assert segments[:2] == ["rec-000.mkv", "rec-001.mkv"]
    assert sum(probe(tmp_path / s)["frames"] for s in segments) == 50
