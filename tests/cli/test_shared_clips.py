"""Real-world clips from ../shared/data/video/dev (skipped when ../shared is absent)."""

from __future__ import annotations

import pytest
from conftest import needs_shared, probe

from vidstyle import stylize_file

pytestmark = needs_shared

FAST = {
    "encode__preset": "ultrafast",
    "run__progress": "off",
    "temporal__mode": "off",
    "faces__mode": "off",
}  # an I/O round trip: the compose stages are tested elsewhere


@pytest.mark.parametrize("name", ["asl/again.mkv", "05_default_juggle.mp4"])
def test_dev_clip_round_trip(shared, tmp_path, tiny_model, name):
    src = shared / "video" / "dev" / name
    out = tmp_path / f"out{src.suffix}"
    report = stylize_file(src, out, model__style=str(tiny_model), model__max_side=320, **FAST)
    a, b = probe(src), probe(out)
    assert report.warnings == []
    assert b["frames"] == a["frames"] == report.frames_out
    assert b["rate"] == a["rate"]
    assert (b["width"], b["height"]) == (a["width"], a["height"])
    assert [p * b["time_base"] for p in b["pts"]] == [p * a["time_base"] for p in a["pts"]]


def test_sintel_png_frames(shared, tmp_path, tiny_model):
    src = shared / "video" / "dev" / "sintel_market"
    out = tmp_path / "sintel.mp4"
    report = stylize_file(src, out, model__style=str(tiny_model), **FAST)
    info = probe(out)
    assert report.frames_out == info["frames"] == 10
    assert (info["width"], info["height"]) == (1024, 436)
