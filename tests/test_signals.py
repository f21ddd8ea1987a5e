"""Ctrl-C and SIGTERM mid-run leave a playable, clearly partial file and the right exit code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import make_model, moving_frames, probe
from vidstyle.io.synth import tone, write_clip


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("long")
    return write_clip(d / "long.mp4", moving_frames(400, 96, 128), 25, audio=tone(16.0))


@pytest.fixture(scope="module")
def slow_model(tmp_path_factory):
    # full width: slow enough on CPU (tens of ms a frame) that the run is still going when signalled
    return make_model(tmp_path_factory.mktemp("slow") / "slow.safetensors", channels=32, res_blocks=5)


@pytest.mark.slow
@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_mid_run_keeps_playable_partial(tmp_path, long_clip, slow_model, signum, code):
    out = tmp_path / "out.mp4"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vidstyle", "stylize", str(long_clip), "-o", str(out), "--style",
         str(slow_model), "--preset", "ultrafast", "--batch", "1", "--no-progress",
         "--precision", "fp32"],     # no first-use int8 quantization: this test is about signals
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:   # wait until encoded frames reach the temporary file
        parts = list(tmp_path.glob(".out.*.part.mp4"))
        if parts and parts[0].stat().st_size > 20_000:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the run never started writing")
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert "interrupted by" in err and "partial output" in err
    assert not out.exists()                      # never under the final name
    partial = tmp_path / "out.partial.mp4"
    info = probe(partial)                        # finalised: the moov index is there
    assert 0 < info["frames"] < 400
    assert info["audio"] and info["audio"][0][1] <= info["duration"] + 0.1
    assert list(tmp_path.glob(".out.*")) == []   # temporary file renamed, not left over
