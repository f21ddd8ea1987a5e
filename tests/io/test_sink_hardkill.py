"""A SIGKILL mid-run loses little: MKV and fragmented MP4 reach the disk as they are written.

A real ``python -m vidstyle stylize`` is frozen (SIGSTOP) once it has encoded a few seconds, its
progress read, then killed (SIGKILL); the next run to the same name keeps the survivor as
``NAME.partial.EXT``, and that file decodes to its last frame, which is at most the encoder's
look-ahead plus one cluster/fragment (``FLUSH_MS``) behind what had been encoded.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import av
import pytest
from conftest import make_model, moving_frames, run_cli

from vidstyle.io.sink import FLUSH_MS, muxer_options
from vidstyle.io.synth import tone, write_clip
from vidstyle.pipeline.memory import encoder_frames

RATE = 25
FRAMES = 750  # 30 s: the run is still going when it is killed
PROGRESS = re.compile(rb"\| *(\d+)/\d+ \[")


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("hardkill")
    return write_clip(d / "long.mp4", moving_frames(FRAMES, 96, 128), RATE, audio=tone(FRAMES / RATE))


@pytest.fixture(scope="module")
def slow_model(tmp_path_factory):
    # full width: tens of ms a frame on the CPU, so a few seconds of video take a few seconds
    return make_model(tmp_path_factory.mktemp("slow") / "slow.safetensors", channels=32, res_blocks=5)


def test_muxer_options_flush_matroska_always_and_mp4_when_fragmented():
    assert muxer_options("matroska", False) == {"cluster_time_limit": "500", "flush_packets": "1"}
    assert muxer_options("webm", False)["cluster_time_limit"] == str(FLUSH_MS)
    frag = muxer_options("mp4", True)
    assert frag["frag_duration"] == "500000" and frag["flush_packets"] == "1"
    assert "frag_keyframe" in frag["movflags"] and "empty_moov" in frag["movflags"]
    assert muxer_options("mp4", False) == {} and muxer_options("avi", True) == {}


class Run:
    """``stylize`` in a subprocess with its progress bar on; ``shown`` is the latest frame count
    the bar printed (frames handed to the encoder)."""

    def __init__(self, clip, out, model, *extra: str):
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vidstyle",
                "stylize",
                str(clip),
                "-o",
                str(out),
                "--style",
                str(model),
                "--batch",
                "1",
                "--precision",
                "fp32",  # no first-use int8 calibration: this test is about the file
                "--faces",
                "off",
                "--set",
                "run.progress=on",
                *extra,
            ],
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.shown = 0
        self.text = b""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        while chunk := self.proc.stderr.read1(4096):
            self.text += chunk
            for match in PROGRESS.finditer(chunk):
                self.shown = int(match.group(1))

    def wait_for(self, frames: int, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while self.shown < frames:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"the run did not reach {frames} frames: {self.text[-2000:]!r}")
            time.sleep(0.05)

    def freeze_and_kill(self) -> int:
        """SIGSTOP (nothing more is encoded), read the last count it printed, SIGKILL; returns it."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        time.sleep(0.5)  # the reader drains what was printed before the stop
        shown = self.shown
        self.proc.kill()
        self.proc.wait(timeout=30)
        self._reader.join(timeout=10)
        return shown


def decode_all(path) -> list[float]:
    """Every frame's time (s), decoding strictly: an undecodable packet raises."""
    with av.open(str(path)) as c:
        return [float(f.time) for f in c.decode(video=0)]


@pytest.mark.slow
@pytest.mark.parametrize(
    "ext,extra",
    [("mkv", ()), ("mp4", ("--set", "encode.fragmented=true"))],
    ids=["mkv", "fragmented-mp4"],
)
def test_sigkill_loses_at_most_the_lookahead_and_half_a_second(
    tmp_path, long_clip, slow_model, tiny_model, ext, extra
):
    out = tmp_path / f"out.{ext}"
    run = Run(long_clip, out, slow_model, *extra)
    run.wait_for(6 * RATE)  # 6 s of video encoded: the old muxers had written nothing yet
    shown = run.freeze_and_kill()
    assert len(list(tmp_path.glob(f".out.*.part.{ext}"))) == 1

    again = run_cli(
        "stylize",
        str(long_clip),
        "-o",
        str(out),
        "--style",
        str(tiny_model),
        "--preset",
        "ultrafast",
        "--no-progress",
        "--faces",
        "off",
        "-t",
        "1",
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert f"an earlier run was killed while writing out.{ext}" in again.stderr, again.stderr
    assert list(tmp_path.glob(".out.*")) == []
    partial = tmp_path / f"out.partial.{ext}"
    times = decode_all(partial)  # plays to its last frame
    assert times == sorted(times) and times[0] < 0.1  # (B-frame delay: x264's first pts may be 2)
    encoded_until = shown / RATE  # s of video the encoder had taken (at least)
    kept_until = len(times) / RATE
    # x264 medium holds its look-ahead (about 40 frames: 1.6 s at 25 fps), the muxer at most one
    # cluster/fragment of FLUSH_MS, plus a frame for the progress bar's lag
    allowed = encoder_frames("libx264", "medium", os.cpu_count() or 1) / RATE + FLUSH_MS / 1000 + 1 / RATE
    lost = encoded_until - kept_until
    print(f"{ext}: encoded {encoded_until:.2f} s, kept {kept_until:.2f} s, lost {lost:.2f} s")
    assert lost <= allowed, (encoded_until, kept_until, allowed)
    assert len(times) <= shown
