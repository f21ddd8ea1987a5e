"""stream.status: the JSON status lines operators read."""

from __future__ import annotations

import re
import time

import pytest
from conftest import REPO
from stream_helpers import FIELDS

from vidstyle.errors import OutputError
from vidstyle.stream.status import Counters, StatusJson, status_record


def test_a_status_record_covers_the_window_since_the_line_before():
    before = Counters(mono=10.0, uptime_s=3.0, state="running", frames_in=100, frames_out=90)
    now = Counters(
        mono=12.0,
        uptime_s=5.0,
        state="reconnecting",
        frames_in=150,
        frames_out=130,
        dropped_late=7,
        dropped_at_stop=0,
        reconnects=2,
        last_frame_age_s=2.61234,
    )
    rec = status_record(now, before, [0.1, 0.3, 0.2], "rtsp://alice:hunter2@cam/x", ["rec.mp4"])
    assert set(rec) == FIELDS
    assert (rec["fps_in"], rec["fps_out"]) == (25.0, 20.0)  # 50 and 40 frames in 2 s
    assert rec["latency_ms"] == {"p50": 200.0, "max": 300.0}
    assert rec["dropped"] == {"late": 7, "at_stop": 0} and rec["reconnects"] == 2
    assert rec["source"] == "rtsp://***@cam/x" and rec["last_frame_age_s"] == 2.612
    assert abs(rec["time"] - time.time()) < 60 and rec["error"] is None
    first = status_record(now, None, [], "clip.mp4", [])
    assert first["fps_in"] == 30.0 and first["latency_ms"] is None  # the run so far: 150 frames in 5 s


def test_status_lines_go_to_stdout_flushed_and_a_bad_path_is_one_line(tmp_path, capsys):
    out = StatusJson("-")
    out.write({"state": "running"})
    assert capsys.readouterr().out == '{"state":"running"}\n'
    with pytest.raises(OutputError, match=r"cannot write the status to .*nope.*: No such file"):
        StatusJson(str(tmp_path / "nope" / "s.jsonl"))


def test_the_readme_documents_every_field():
    text = (REPO / "docs" / "streams.md").read_text()
    section = text[text.index("### Status for operators") :]
    documented = set(re.findall(r"^\| `(\w+)`(?:, `(\w+)`)? \|", section, re.M))
    assert {name for pair in documented for name in pair if name} == FIELDS
