"""stream.run: a file paced like a camera with realtime, every frame without it (the file's own
clock either way, its audio kept); a slow pipeline against a live RTSP source drops frames and
keeps latency bounded; a run that cannot start still writes its last status line."""

from __future__ import annotations

import time

import av
import pytest
from conftest import probe
from stream_helpers import needs_rtsp, publish, records

from vidstyle.config import load_config
from vidstyle.configtools import override
from vidstyle.errors import InputError
from vidstyle.pipeline.api import Pipeline
from vidstyle.stream.run import run_stream


class SlowStylizer:
    """The real stylizer plus a fixed delay per call (slower than the source's frame rate)."""

    def __init__(self, inner, delay: float):
        self.inner, self.delay = inner, delay
        self.device, self.name = inner.device, "slow"
        self.activation_bytes_per_px, self.precision = inner.activation_bytes_per_px, inner.precision

    def __call__(self, batch, style=None):
        time.sleep(self.delay)
        return self.inner(batch, style)


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


@needs_rtsp
@pytest.mark.slow
def test_slow_pipeline_drops_frames_and_keeps_latency_bounded(tmp_path, rtsp_server, tiny_model):
    """A stylizer slower than the source: frames are dropped at capture, and admission (at most
    workers + 1 frames inside) keeps latency near one stylize call while the workers stay busy
    (with unbounded admission the same run measured p95 0.85 s, here 0.43 s)."""
    from vidstyle.pipeline.scheduling import stylize_workers
    from vidstyle.stream.run import run_stream

    delay = 0.2
    cfg = load_config(search_cwd=False)
    for key, value in (
        ("model.style", str(tiny_model)),
        ("model.backend", "torch"),
        ("faces.mode", "off"),
        ("stream.rtsp_transport", "udp"),
        ("stream.read_timeout", 2.0),
        ("stream.segment_seconds", 0.0),
        ("run.progress", "off"),
    ):
        cfg = override(cfg, key, value)
    pipeline = Pipeline(
        cfg, stylizer=SlowStylizer(Pipeline(cfg).stylizer, delay)
    )  # ~5-10 fps against 25 fps in
    workers = stylize_workers(cfg, pipeline.stylizer.device)
    pub = publish(rtsp_server["publish"], 9)
    report = run_stream(
        rtsp_server["read"], cfg, file_out=tmp_path / "slow.mkv", duration=5, pipeline=pipeline, status=False
    )
    pub.wait(timeout=20)
    assert report.dropped > 20
    assert report.captured == report.delivered + report.dropped
    assert report.written == report.delivered
    assert report.latency_p95 < 3.5 * delay
    assert report.output_fps > 0.6 * workers / delay
    assert probe(tmp_path / "slow.mkv")["frames"] == report.written


def test_a_run_that_cannot_start_still_writes_its_last_line(tmp_path, tiny_model):
    cfg = load_config(search_cwd=False)
    for key, value in (
        ("model.style", str(tiny_model)),
        ("model.backend", "torch"),
        ("faces.mode", "off"),
        ("stream.status_json", str(tmp_path / "s.jsonl")),
    ):
        cfg = override(cfg, key, value)
    with pytest.raises(InputError, match="input not found"):
        run_stream(str(tmp_path / "missing.mp4"), cfg, file_out=tmp_path / "o.mp4", status=False)
    (last,) = records(tmp_path / "s.jsonl")
    assert last["state"] == "ended" and "input not found" in last["error"] and last["frames_out"] == 0
