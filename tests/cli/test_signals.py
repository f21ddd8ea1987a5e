"""Ctrl-C and SIGTERM mid-run leave a playable, clearly partial file and the right exit code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import make_model, moving_frames, probe, run_cli

from vidstyle.io.synth import tone, write_clip


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("long")
    return write_clip(d / "long.mp4", moving_frames(400, 96, 128), 25, audio=tone(16.0))


@pytest.fixture(scope="module")
def slow_model(tmp_path_factory):
    # full width: slow enough on CPU (tens of ms a frame) that the run is still going when signalled
    return make_model(tmp_path_factory.mktemp("slow") / "slow.safetensors", channels=32, res_blocks=5)


def start_writing(d, clip, model, *extra: str) -> subprocess.Popen:
    """``stylize clip -o d/out.mp4`` in a subprocess, returned once frames reach its temp file."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vidstyle",
            "stylize",
            str(clip),
            "-o",
            str(d / "out.mp4"),
            "--style",
            str(model),
            "--preset",
            "ultrafast",
            "--batch",
            "1",
            "--no-progress",
            "--precision",
            "fp32",
            *extra,
        ],  # no first-use int8 quantization: this test is about signals
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until encoded frames reach the temporary file
        parts = list(d.glob(".out.*.part.mp4"))
        if parts and parts[0].stat().st_size > 20_000:
            return proc
        time.sleep(0.05)
    proc.kill()
    pytest.fail("the run never started writing")


@pytest.mark.slow
@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_signal_mid_run_keeps_playable_partial(tmp_path, long_clip, slow_model, signum, code):
    out = tmp_path / "out.mp4"
    proc = start_writing(tmp_path, long_clip, slow_model)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert "interrupted by" in err and "partial output" in err
    assert not out.exists()  # never under the final name
    partial = tmp_path / "out.partial.mp4"
    info = probe(partial)  # finalised: the moov index is there
    assert 0 < info["frames"] < 400
    video_end = float(info["pts"][-1] * info["time_base"]) + 0.04
    assert info["duration"] == pytest.approx(video_end, abs=0.03)
    assert info["audio"] and abs(info["audio"][0][1] - video_end) < 0.03  # within one AAC packet
    assert list(tmp_path.glob(".out.*")) == []  # temporary file renamed, not left over


@pytest.mark.slow
@pytest.mark.parametrize("fragmented", [True, False], ids=["fragmented", "plain"])
def test_the_next_run_deals_with_a_killed_runs_temp_file(
    tmp_path, long_clip, slow_model, tiny_model, fragmented
):
    """SIGKILL leaves the temporary file behind. With encode.fragmented it plays, and the next run
    to the same name keeps it as NAME.partial.EXT; a plain MP4 (no index yet) is removed. Either
    way the next run says so and leaves no temp file."""
    proc = start_writing(
        tmp_path, long_clip, slow_model, "--set", f"encode.fragmented={str(fragmented).lower()}"
    )
    time.sleep(1.5)  # at least one complete fragment
    proc.kill()
    proc.communicate(timeout=30)
    assert len(list(tmp_path.glob(".out.*.part.mp4"))) == 1
    again = run_cli(
        "stylize",
        str(long_clip),
        "-o",
        str(tmp_path / "out.mp4"),
        "--style",
        str(tiny_model),
        "--preset",
        "ultrafast",
        "--no-progress",
        "--faces",
        "off",
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert list(tmp_path.glob(".out.*")) == []
    assert probe(tmp_path / "out.mp4")["frames"] == 400
    if fragmented:
        assert "an earlier run was killed while writing out.mp4" in again.stderr
        assert 0 < decodable_frames(tmp_path / "out.partial.mp4") < 400  # cut mid-fragment: the tail is lost
    else:
        assert "left by an earlier run that was killed (nothing playable in it)" in again.stderr, again.stderr
        assert not (tmp_path / "out.partial.mp4").exists()


def decodable_frames(path) -> int:
    """Frames a player gets out of ``path``, skipping packets that do not decode (a cut-off tail)."""
    import av

    n = 0
    with av.open(str(path)) as c:
        for packet in c.demux(c.streams.video[0]):
            try:
                n += len(packet.decode())
            except av.error.FFmpegError:
                pass
    return n
