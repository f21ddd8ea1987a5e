"""`vidstyle stream FILE`: paced like a camera with --realtime, every frame without it; the file's
own clock either way, its audio kept, and one output file unless segments are asked for."""

from __future__ import annotations

import time

import av
import pytest
from conftest import moving_frames, probe, run_cli

from vidstyle.config import load_config
from vidstyle.configtools import override
from vidstyle.io.synth import tone, write_clip
from vidstyle.pipeline.api import Pipeline
from vidstyle.stream.run import run_stream


class SlowStylizer:
    """The real stylizer plus a fixed delay per call (slower than the source's frame rate)."""

    def __init__(self, inner, delay: float):
        self.inner, self.delay = inner, delay
        self.device, self.name = inner.device, "slow"

    def __call__(self, batch):
        time.sleep(self.delay)
        return self.inner(batch)


@pytest.fixture(scope="module")
def av_clip(tmp_path_factory):
    """2 s at 25 fps, 128x96, with a stereo AAC tone."""
    return write_clip(tmp_path_factory.mktemp("sf") / "clip.mp4", moving_frames(50), 25, audio=tone(2.0))


def stream_cfg(tiny_model):
    cfg = load_config(search_cwd=False)
    for key, value in (
        ("model.style", str(tiny_model)),
        ("model.backend", "torch"),
        ("faces.mode", "off"),
        ("run.progress", "off"),
    ):
        cfg = override(cfg, key, value)
    return cfg


def audio_end(path) -> float:
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        return float(a.duration * a.time_base)


def test_realtime_file_drops_late_frames_and_lasts_as_long_as_the_source(tmp_path, av_clip, tiny_model):
    cfg = stream_cfg(tiny_model)
    pipeline = Pipeline(cfg)
    pipeline._stylizer = SlowStylizer(pipeline.stylizer, 0.15)  # ~7-13 fps against 25 fps in
    out = tmp_path / "rt.mp4"
    t0 = time.monotonic()
    report = run_stream(str(av_clip), cfg, file_out=out, realtime=True, pipeline=pipeline, status=False)
    assert time.monotonic() - t0 > 1.9  # paced at the file's rate
    assert report.dropped > 10 and report.captured == 50  # late frames dropped, like a camera
    info = probe(out)
    assert info["frames"] == report.written < 40
    tb = info["time_base"]
    assert float(info["pts"][0] * tb) < 0.2  # the file's clock, not wall time
    assert info["duration"] == pytest.approx(2.0, abs=0.04)  # within one frame of the source
    assert audio_end(out) == pytest.approx(2.0, abs=0.03)  # the file's audio, kept


def test_file_without_realtime_keeps_every_frame_and_its_timestamps(tmp_path, av_clip, tiny_model):
    cfg = stream_cfg(tiny_model)
    pipeline = Pipeline(cfg)
    pipeline._stylizer = SlowStylizer(pipeline.stylizer, 0.02)
    out = tmp_path / "all.mkv"
    report = run_stream(str(av_clip), cfg, file_out=out, pipeline=pipeline, status=False)
    assert report.dropped == 0
    got, want = probe(out), probe(av_clip)
    assert got["frames"] == 50
    # the same times (an MKV muxer may shift both tracks by the AAC priming delay: compare steps)
    times = [(p - got["pts"][0]) * got["time_base"] for p in got["pts"]]
    assert times == [(p - want["pts"][0]) * want["time_base"] for p in want["pts"]]
    assert len(got["audio"]) == 1


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
